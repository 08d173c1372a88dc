using System.Globalization;
using System.Threading.RateLimiting;
using DaprShop.Gateway.Proxy;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace DaprShop.Gateway.Edge;

/// <summary>
/// A fixed window of requests per client IP address. The client is the connection's remote address, which the
/// forwarded-headers middleware replaces with the <c>X-Forwarded-For</c> client only when the connection comes from
/// a configured trusted proxy. Refusals are 429 problem details with <c>Retry-After</c>.
/// </summary>
internal static class ClientRateLimiting
{
    public static IServiceCollection AddClientRateLimiting(this IServiceCollection services) =>
        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(GatewayRoutes.PerClientRateLimit, context =>
            {
                var limits = context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value.RateLimit;
                var client = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
                return RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = limits.PermitLimit,
                    Window = TimeSpan.FromSeconds(limits.WindowSeconds),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                var context = rejected.HttpContext;
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait)
                    ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))
                    : context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value.RateLimit.WindowSeconds;
                await Problems.WriteAsync(context, StatusCodes.Status429TooManyRequests, $"Too many requests from this client; try again in {retryAfter} s.",
                    headers => headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture));
            };
        });
}
