using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;

namespace DaprShop.Gateway.Edge;

/// <summary>Cache lifetimes for what rarely changes: product pictures and the storefront's static files.</summary>
internal static class StaticAssets
{
    private static readonly HashSet<string> Extensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ".css", ".js", ".mjs", ".map", ".wasm", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg", ".ico", ".woff", ".woff2", ".ttf",
    };

    /// <summary><c>/api/v1/catalog/products/{id}/picture</c>.</summary>
    public static bool IsProductPicture(PathString path)
    {
        var segments = path.Value?.Split('/', StringSplitOptions.RemoveEmptyEntries) ?? [];
        return segments is ["api", "v1", "catalog", "products", _, "picture"];
    }

    public static bool IsStorefrontAsset(PathString path) =>
        path.StartsWithSegments("/_framework") || path.StartsWithSegments("/_content") || Extensions.Contains(Path.GetExtension(path.Value ?? ""));

    /// <summary>Adds <c>Cache-Control: public, max-age</c> to a successful answer that came without caching instructions.</summary>
    public static void SetCacheLifetime(ResponseTransformContext context, bool applies, int maxAgeSeconds)
    {
        var response = context.HttpContext.Response;
        if (!applies || maxAgeSeconds <= 0 || context.ProxyResponse is null
            || response.StatusCode != StatusCodes.Status200OK
            || response.Headers.ContainsKey(HeaderNames.CacheControl)
            || response.Headers.ContainsKey(HeaderNames.Expires)
            || response.Headers.ContainsKey(HeaderNames.SetCookie))
        {
            return;
        }
        response.Headers.CacheControl = $"public, max-age={maxAgeSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
    }
}
