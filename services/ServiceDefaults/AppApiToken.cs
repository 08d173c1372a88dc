using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace DaprShop.ServiceDefaults;

/// <summary>
/// Dapr's app API token, the app's side: when <c>APP_API_TOKEN</c> is set, the sidecar sends it as
/// <c>dapr-api-token</c> on every call it makes to the app, and the app refuses calls without it, so only its own
/// sidecar can reach it (health probes excepted: the orchestrator calls them directly).
/// </summary>
public static class AppApiToken
{
    public const string Header = "dapr-api-token";
    public const string Variable = "APP_API_TOKEN";

    public static IApplicationBuilder UseAppApiToken(this IApplicationBuilder app, params PathString[] exempt)
    {
        var configured = app.ApplicationServices.GetRequiredService<IConfiguration>()[Variable];
        if (string.IsNullOrEmpty(configured))
        {
            return app;
        }
        var expected = Encoding.UTF8.GetBytes(configured);
        return app.Use(async (context, next) =>
        {
            if (exempt.Any(path => context.Request.Path.StartsWithSegments(path)) || Matches(context.Request.Headers[Header], expected))
            {
                await next(context);
                return;
            }
            await Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
                detail: $"Calls to this app must come through its Dapr sidecar, which presents the {Header} header.").ExecuteAsync(context);
        });
    }

    private static bool Matches(string? presented, byte[] expected) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), expected);
}
