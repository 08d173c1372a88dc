using DaprShop.Gateway.Edge;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace DaprShop.Gateway.Proxy;

/// <summary>Steps around every proxied request: failures as problem details, and catalog writes clearing the cached reads.</summary>
internal static class ProxyPipeline
{
    /// <summary>
    /// Upstream answers pass through as they came (status code pages stay out of them); when there is no answer
    /// (backend or sidecar unreachable, timed out) the client gets 503/504/502 problem details, never an empty page.
    /// </summary>
    public static IReverseProxyApplicationBuilder UseProxyErrors(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.Use(async (context, next) =>
        {
            if (context.Features.Get<IStatusCodePagesFeature>() is { } statusCodePages)
            {
                statusCodePages.Enabled = false;
            }
            await next();
            var error = context.GetForwarderErrorFeature();
            if (error is null || context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
            {
                return;
            }
            var target = context.GetReverseProxyFeature().Route.Config.Metadata?.GetValueOrDefault(GatewayRoutes.AppIdMetadata) is { } appId
                ? $"The {appId} service"
                : "The storefront";
            var (status, detail) = error.Error switch
            {
                ForwarderError.RequestTimedOut => (StatusCodes.Status504GatewayTimeout, $"{target} did not answer in time."),
                ForwarderError.Request or ForwarderError.NoAvailableDestinations => (StatusCodes.Status503ServiceUnavailable, $"{target} cannot be reached right now."),
                _ => (StatusCodes.Status502BadGateway, $"{target} could not be reached."),
            };
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ProxyPipeline))
                .LogWarning("Proxying {Method} {Path} failed ({Error}); answered {Status}", context.Request.Method, context.Request.Path, error.Error, status);
            await Problems.WriteAsync(context, status, detail);
        });
        return proxy;
    }

    /// <summary>A successful catalog write through the gateway drops the cached catalog reads at once, not after their TTL.</summary>
    public static IReverseProxyApplicationBuilder UseCatalogCacheEviction(this IReverseProxyApplicationBuilder proxy)
    {
        proxy.Use(async (context, next) =>
        {
            await next();
            var method = context.Request.Method;
            if (context.GetReverseProxyFeature().Route.Config.RouteId == GatewayRoutes.CatalogRoute
                && !HttpMethods.IsGet(method) && !HttpMethods.IsHead(method) && !HttpMethods.IsOptions(method)
                && context.Response.StatusCode < 400 && context.GetForwarderErrorFeature() is null
                && context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value.Caching.CatalogReadSeconds > 0)
            {
                await context.RequestServices.GetRequiredService<IOutputCacheStore>().EvictByTagAsync(CatalogReadsPolicy.Tag, context.RequestAborted);
            }
        });
        return proxy;
    }
}
