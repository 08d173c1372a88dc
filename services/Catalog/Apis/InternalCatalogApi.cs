using Dapr.Client;
using DaprShop.Catalog.Products;
using DaprShop.Catalog.Store;
using DaprShop.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DaprShop.Catalog.Apis;

/// <summary>Routes only other services call (through Dapr service invocation).</summary>
public static class InternalCatalogApi
{
    public const int MaxProductsPerQuery = 200;

    public static RouteGroupBuilder MapInternalCatalogApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/internal/catalog").WithTags("Internal").ExcludeFromDescription();
        api.MapPost("/prices", Prices);
        return api;
    }

    /// <summary>
    /// Checkout re-prices every line here. Read from the state store, never the cache: a price a few seconds old
    /// is fine on a listing but not on an order.
    /// </summary>
    internal static async Task<Results<Ok<PriceAnswer>, ValidationProblem>> Prices(PriceQuery query, DaprClient dapr, CancellationToken cancellationToken)
    {
        if (query.ProductIds is null || query.ProductIds.Count == 0 || query.ProductIds.Count > MaxProductsPerQuery || query.ProductIds.Any(string.IsNullOrWhiteSpace))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["productIds"] = [$"between 1 and {MaxProductsPerQuery} non-empty product ids"],
            });
        }
        var ids = query.ProductIds.Distinct(StringComparer.Ordinal).ToList();
        var items = await dapr.GetBulkStateAsync<Product?>(Components.StateStore, [.. ids.Select(CatalogKeys.Product)], parallelism: 8, cancellationToken: cancellationToken);
        var prices = items.Select(i => i.Value).OfType<Product>()
            .ToDictionary(p => p.Id, p => new ProductPrice(p.Id, p.Name, p.Price), StringComparer.Ordinal);
        return TypedResults.Ok(new PriceAnswer(prices));
    }
}
