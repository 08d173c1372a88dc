using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace DaprShop.Gateway.Edge;

/// <summary>
/// Output caching for anonymous catalog reads: GET/HEAD without <c>Authorization</c> and without an auth cookie,
/// keyed by path and the whole query, for <see cref="CachingOptions.CatalogReadSeconds"/>. Only plain 200 answers
/// without cookies and without <c>no-store</c>/<c>private</c> are stored. Catalog writes through the gateway
/// evict the lot (<see cref="Tag"/>).
/// </summary>
internal sealed class CatalogReadsPolicy(IOptions<GatewayOptions> options) : IOutputCachePolicy
{
    public const string Tag = "catalog";

    ValueTask IOutputCachePolicy.CacheRequestAsync(OutputCacheContext context, CancellationToken cancellation)
    {
        var request = context.HttpContext.Request;
        var cacheable = (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
            && !request.Headers.ContainsKey(HeaderNames.Authorization)
            && !HasAuthCookie(request, options.Value.Caching.AuthCookies);
        context.EnableOutputCaching = true;
        context.AllowCacheLookup = cacheable;
        context.AllowCacheStorage = cacheable;
        context.AllowLocking = true;
        context.ResponseExpirationTimeSpan = TimeSpan.FromSeconds(options.Value.Caching.CatalogReadSeconds);
        context.CacheVaryByRules.QueryKeys = "*";
        context.Tags.Add(Tag);
        return default;
    }

    ValueTask IOutputCachePolicy.ServeFromCacheAsync(OutputCacheContext context, CancellationToken cancellation) => default;

    ValueTask IOutputCachePolicy.ServeResponseAsync(OutputCacheContext context, CancellationToken cancellation)
    {
        var response = context.HttpContext.Response;
        var cacheControl = response.Headers.CacheControl.ToString();
        if (response.StatusCode != StatusCodes.Status200OK
            || response.Headers.ContainsKey(HeaderNames.SetCookie)
            || cacheControl.Contains("no-store", StringComparison.OrdinalIgnoreCase)
            || cacheControl.Contains("private", StringComparison.OrdinalIgnoreCase))
        {
            context.AllowCacheStorage = false;
        }
        return default;
    }

    internal static bool HasAuthCookie(HttpRequest request, IReadOnlyList<string> authCookies) =>
        request.Cookies.Keys.Any(name => authCookies.Any(auth => IsAuthCookie(name, auth)));

    private static bool IsAuthCookie(string name, string auth)
    {
        if (auth.EndsWith('.'))
        {
            return name.StartsWith(auth, StringComparison.Ordinal);
        }
        // ASP.NET Core splits a large auth cookie into "<name>C1", "<name>C2"...
        return name.Equals(auth, StringComparison.Ordinal)
            || (name.StartsWith(auth + "C", StringComparison.Ordinal) && name.Length > auth.Length + 1 && name[(auth.Length + 1)..].All(char.IsAsciiDigit));
    }
}
