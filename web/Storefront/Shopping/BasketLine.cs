using DaprShop.Contracts;
using DaprShop.Storefront.Services;

namespace DaprShop.Storefront.Shopping;

/// <summary>A basket line with the product as the catalog shows it now (null when the catalog no longer has it).</summary>
public sealed record BasketLine(BasketItemDto Item, ProductDto? Product)
{
    /// <summary>The shopper's basket with its products, read from the catalog in parallel (the basket keeps quantities only).</summary>
    public static async Task<IReadOnlyList<BasketLine>> ReadAsync(BasketClient baskets, CatalogClient catalog, string shopperId, CancellationToken cancellationToken = default)
    {
        var basket = await baskets.GetAsync(shopperId, cancellationToken);
        var products = basket.Items.Select(i => catalog.GetProductAsync(i.ProductId, cancellationToken)).ToList();
        await Task.WhenAll(products);
        return [.. basket.Items.Select((item, i) => new BasketLine(item, products[i].Result))];
    }
}
