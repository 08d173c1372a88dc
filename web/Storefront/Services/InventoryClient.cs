using DaprShop.Contracts;

namespace DaprShop.Storefront.Services;

/// <summary>Stock levels for the product page. Not needed to shop: when inventory cannot answer, the page just says nothing about stock.</summary>
public sealed class InventoryClient(HttpClient http, ILogger<InventoryClient> logger)
{
    public const string Service = AppIds.Inventory;

    /// <summary>How long a page waits for an answer it can do without.</summary>
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(1.5);

    public async Task<StockDto?> TryGetStockAsync(string productId, CancellationToken cancellationToken = default)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(Budget);
        try
        {
            return await ServiceCall.GetAsync<StockDto>(http, Service, $"api/v1/inventory/{Uri.EscapeDataString(productId)}", logger, budget.Token);
        }
        catch (ServiceUnavailableException)
        {
            return null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Inventory did not answer within {Budget} for {ProductId}; the page shows no stock level", Budget, productId);
            return null;
        }
    }
}
