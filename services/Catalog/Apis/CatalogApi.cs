using Dapr;
using Dapr.Client;
using DaprShop.Catalog.Products;
using DaprShop.Catalog.Search;
using DaprShop.Catalog.Store;
using DaprShop.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace DaprShop.Catalog.Apis;

/// <summary>
/// The public, read-only catalog. Product reads and listing pages come from the <c>cache</c> store when they can;
/// a miss is answered from the state store (a product) or this replica's snapshot (a listing) and written back
/// with a TTL. An unavailable cache degrades to uncached reads, never to errors.
/// </summary>
public static class CatalogApi
{
    public static RouteGroupBuilder MapCatalogApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/catalog").WithTags("Catalog");
        api.MapGet("/products", ListProducts).WithName("ListProducts").WithSummary("Lists, filters, sorts and searches products, a page at a time.");
        api.MapGet("/products/{productId}", GetProduct).WithName("GetProduct").WithSummary("One product; 404 when unknown.");
        api.MapGet("/products/{productId}/picture", GetPicture).WithName("GetProductPicture").WithSummary("The product's picture (SVG).");
        api.MapGet("/categories", (CatalogSnapshot snapshot) => TypedResults.Ok(snapshot.Index.Categories)).WithName("ListCategories");
        api.MapGet("/brands", (CatalogSnapshot snapshot) => TypedResults.Ok(snapshot.Index.Brands)).WithName("ListBrands");
        return api;
    }

    internal static async Task<Results<Ok<CatalogPage>, ValidationProblem>> ListProducts(
        string? q, string? category, string? brand, string? minPrice, string? maxPrice, string? inStock, string? sort, string? page, string? pageSize,
        CatalogSnapshot snapshot, NearCache near, DaprClient dapr, IOptions<CatalogOptions> options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var errors = ListingQuery.TryParse(q, category, brand, minPrice, maxPrice, inStock, sort, page, pageSize, out var query);
        if (query is null)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var index = snapshot.Index;
        var key = CatalogKeys.CachedListing(index.Version, query.CacheKey());
        if (near.Get<CatalogPage>(key) is { } nearby)
        {
            return TypedResults.Ok(nearby);
        }
        var logger = loggers.CreateLogger(typeof(CatalogApi));
        var cached = await TryCacheGetAsync<CatalogPage>(dapr, key, logger, cancellationToken);
        if (cached is null)
        {
            cached = index.Query(query);
            await TryCacheSetAsync(dapr, key, cached, options.Value.ListingCacheSeconds, logger, cancellationToken);
        }
        near.Set(key, cached);
        return TypedResults.Ok(cached);
    }

    internal static async Task<Results<Ok<ProductDto>, NotFound>> GetProduct(
        string productId, HttpContext http, CatalogSnapshot snapshot, NearCache near, DaprClient dapr, IOptions<CatalogOptions> options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(typeof(CatalogApi));
        var key = CatalogKeys.CachedProduct(productId);
        var product = Current(near.Get<Product>(key), snapshot);
        if (product is null)
        {
            product = Current(await TryCacheGetAsync<Product>(dapr, key, logger, cancellationToken), snapshot);
            if (product is null)
            {
                product = await dapr.GetStateAsync<Product?>(Components.StateStore, CatalogKeys.Product(productId), cancellationToken: cancellationToken);
                if (product is null)
                {
                    return TypedResults.NotFound();
                }
                await TryCacheSetAsync(dapr, key, product, options.Value.ProductCacheSeconds, logger, cancellationToken);
            }
            near.Set(key, product);
        }
        // The version is the ETag the back office sends back in If-Match.
        http.Response.Headers.ETag = product.ETag;
        return TypedResults.Ok(product.ToDto());
    }

    /// <summary>
    /// A cached product, unless the snapshot knows a newer version: a reader that missed just before a change can put
    /// the old version back after the eviction, and the snapshot knows better once it has reloaded.
    /// </summary>
    private static Product? Current(Product? cached, CatalogSnapshot snapshot) =>
        cached is not null && snapshot.Index.Find(cached.Id) is { } known && known.Version > cached.Version ? null : cached;

    internal static Results<ContentHttpResult, StatusCodeHttpResult, NotFound> GetPicture(string productId, HttpContext http, CatalogSnapshot snapshot)
    {
        if (snapshot.Index.Find(productId) is not { } product)
        {
            return TypedResults.NotFound();
        }
        var etag = ProductPicture.ETag(product);
        http.Response.Headers.ETag = etag;
        http.Response.Headers.CacheControl = "public, max-age=86400";
        if (http.Request.Headers.IfNoneMatch == etag)
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }
        return TypedResults.Content(ProductPicture.Svg(product), "image/svg+xml");
    }

    private static async Task<T?> TryCacheGetAsync<T>(DaprClient dapr, string key, ILogger logger, CancellationToken cancellationToken) where T : class
    {
        try
        {
            return await dapr.GetStateAsync<T?>(Components.Cache, key, cancellationToken: cancellationToken);
        }
        catch (DaprException e)
        {
            ProductCommands.LogCacheUnavailable(logger, e);
            return null;
        }
    }

    private static async Task TryCacheSetAsync<T>(DaprClient dapr, string key, T value, int ttlSeconds, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await dapr.SaveStateAsync(Components.Cache, key, value,
                metadata: new Dictionary<string, string> { ["ttlInSeconds"] = ttlSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                cancellationToken: cancellationToken);
        }
        catch (DaprException e)
        {
            ProductCommands.LogCacheUnavailable(logger, e);
        }
    }
}
