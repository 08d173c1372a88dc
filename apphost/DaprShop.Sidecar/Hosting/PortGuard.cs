using DaprShop.Sidecar.Resources;
using Grpc.Core;
using DaprShop.Sidecar.Runtime;

namespace DaprShop.Sidecar.Hosting;

/// <summary>
/// Keeps the two API ports apart (gRPC only on <c>--dapr-grpc-port</c>, HTTP only on <c>--dapr-http-port</c>) and
/// applies the Configuration's <c>api.allowed</c>/<c>api.denied</c> lists to the HTTP API (to gRPC: <see cref="ApiAllowListInterceptor"/>).
/// </summary>
public static class PortGuard
{
    public static IApplicationBuilder UsePortGuard(this IApplicationBuilder app, SidecarOptions options, LoadedResources resources)
    {
        var configuration = resources.Configuration;
        var metricsPort = SidecarApp.MetricsPort(options, resources);
        return app.Use(async (context, next) =>
        {
            if (context.Connection.LocalPort == metricsPort)
            {
                context.Response.StatusCode = 404; // the metrics port serves /metrics and nothing else
                return;
            }
            var isGrpc = context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true;
            var onGrpcPort = context.Connection.LocalPort == options.DaprGrpcPort;
            if (isGrpc != onGrpcPort)
            {
                context.Response.StatusCode = onGrpcPort ? 404 : 415;
                return;
            }
            if (!isGrpc && ApiRoute(context.Request.Path) is ({ } version, { } route) && !configuration.IsHttpApiAllowed(version, route))
            {
                // daprd does not register a route its lists exclude, so the call meets its fallback: an invocation in
                // the dapr-app-id header form, or "no app id".
                if (!await Http.Invoke.TryHeaderFormAsync(context, context.RequestServices.GetRequiredService<InvocationApi>()))
                {
                    await Http.HttpApi.Error(DaprErrors.NoAppId()).ExecuteAsync(context);
                }
                return;
            }
            await next(context);
        });
    }

    /// <summary>An API call's path version and route (<c>v1.0</c>, <c>state/store/key</c>); none for the health checks, which are always allowed.</summary>
    private static (string? Version, string? Route) ApiRoute(PathString path)
    {
        var parts = path.Value?.TrimStart('/').Split('/', 2) ?? [];
        if (parts.Length < 2 || !parts[0].StartsWith("v1.0", StringComparison.Ordinal) || parts[1] == "healthz" || parts[1].StartsWith("healthz/", StringComparison.Ordinal))
        {
            return (null, null);
        }
        return (parts[0], parts[1]);
    }
}

/// <summary>The gRPC side of the Configuration's <c>api.allowed</c>/<c>api.denied</c> lists (daprd's interceptor).</summary>
public sealed class ApiAllowListInterceptor(LoadedResources resources) : CheckingInterceptor
{
    private static readonly byte[] NotAvailable = "requested endpoint is not available"u8.ToArray();

    protected override void Check(ServerCallContext context)
    {
        if (!resources.Configuration.IsGrpcMethodAllowed(context.Method))
        {
            // As daprd answers: Unimplemented "Not Implemented", with the HTTP status 501 in an ErrorInfo.
            throw Grpc.HttpAppAnswer.Error(501, NotAvailable);
        }
    }
}
