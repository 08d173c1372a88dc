using DaprShop.Sidecar.Resources;
using DaprShop.Sidecar.Runtime;

namespace DaprShop.Sidecar.Hosting;

/// <summary>
/// Keeps the two API ports apart (gRPC only on <c>--dapr-grpc-port</c>, HTTP only on <c>--dapr-http-port</c>) and
/// applies the Configuration's <c>api.allowed</c>/<c>api.denied</c> lists to the HTTP API.
/// </summary>
public static class PortGuard
{
    public static IApplicationBuilder UsePortGuard(this IApplicationBuilder app, SidecarOptions options, LoadedResources resources)
    {
        var configuration = resources.Configuration;
        return app.Use(async (context, next) =>
        {
            var isGrpc = context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true;
            var onGrpcPort = context.Connection.LocalPort == options.DaprGrpcPort;
            if (isGrpc != onGrpcPort)
            {
                context.Response.StatusCode = onGrpcPort ? 404 : 415;
                return;
            }
            if (!isGrpc && ApiName(context.Request.Path) is ({ } name, { } version)
                && !configuration.IsApiAllowed(name, version, "http"))
            {
                await Http.HttpApi.Error(DaprErrors.ApiNotAllowed($"{version}/{name}")).ExecuteAsync(context);
                return;
            }
            await next(context);
        });
    }

    private static (string? Name, string? Version) ApiName(PathString path)
    {
        var parts = path.Value?.Split('/', StringSplitOptions.RemoveEmptyEntries) ?? [];
        if (parts.Length < 2 || !parts[0].StartsWith("v1.0", StringComparison.Ordinal) || parts[1] == "healthz")
        {
            return (null, null);
        }
        return (parts[1] == "publish" ? "publish" : parts[1], parts[0]);
    }
}
