using DaprShop.Gateway.Edge;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace DaprShop.Gateway.Proxy;

/// <summary>
/// What every route does to requests and responses on the way through: clients never choose the target app or see
/// the sidecar's token, API routes name their app to Dapr, and static assets get a cache lifetime when the
/// upstream gave none.
/// </summary>
internal sealed class GatewayTransforms(DaprSidecar sidecar, IOptions<GatewayOptions> options) : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        // Any dapr-* header from a client (dapr-app-id, dapr-api-token, dapr-caller-app-id...) is dropped: only the
        // gateway addresses its sidecar. Responses lose theirs too (e.g. the sidecar's dapr-error-code).
        context.AddRequestTransform(transform =>
        {
            foreach (var name in transform.HttpContext.Request.Headers.Keys.Where(IsDaprHeader).ToList())
            {
                RequestTransform.RemoveHeader(transform, name);
            }
            return default;
        });
        context.AddResponseTransform(transform =>
        {
            foreach (var name in transform.HttpContext.Response.Headers.Keys.Where(IsDaprHeader).ToList())
            {
                transform.HttpContext.Response.Headers.Remove(name);
            }
            return default;
        });

        var caching = options.Value.Caching;
        if (context.Route.Metadata?.GetValueOrDefault(GatewayRoutes.AppIdMetadata) is { } appId)
        {
            context.AddRequestHeader(DaprSidecar.AppIdHeader, appId, append: false);
            if (sidecar.ApiToken is { } token)
            {
                context.AddRequestHeader(DaprSidecar.ApiTokenHeader, token, append: false);
            }
            // The gateway compresses at the edge; an app's compressed answer would land in the output cache under a
            // key that does not vary by Accept-Encoding.
            context.AddRequestHeaderRemove("Accept-Encoding");
            context.AddResponseTransform(transform => DaprErrors.TranslateAsync(transform, appId));
            if (context.Route.RouteId == GatewayRoutes.CatalogRoute)
            {
                context.AddResponseTransform(transform =>
                {
                    StaticAssets.SetCacheLifetime(transform, StaticAssets.IsProductPicture(transform.HttpContext.Request.Path), caching.PictureMaxAgeSeconds);
                    return default;
                });
            }
        }
        else if (context.Route.RouteId == GatewayRoutes.StorefrontRoute)
        {
            context.AddResponseTransform(transform =>
            {
                StaticAssets.SetCacheLifetime(transform, StaticAssets.IsStorefrontAsset(transform.HttpContext.Request.Path), caching.StaticAssetMaxAgeSeconds);
                return default;
            });
        }
    }

    private static bool IsDaprHeader(string name) => name.StartsWith("dapr-", StringComparison.OrdinalIgnoreCase);
}
