using Dapr.Actors;
using DaprShop.Contracts;

namespace DaprShop.Inventory.Stock;

/// <summary>
/// One actor per SKU (actor id = product id). Dapr runs one call per actor at a time, so "is there enough?" and
/// "take it" are one step: concurrent checkouts cannot both take the last unit.
/// </summary>
public interface IStockActor : IActor
{
    /// <summary>The stock, or null for a product this inventory has never stocked.</summary>
    Task<StockDto?> GetAsync();
    Task<HoldOutcome> HoldAsync(string reservationId, int quantity);
    Task ReleaseAsync(string reservationId);
    Task ConfirmAsync(string reservationId);
    Task<StockDto> RestockAsync(int quantity);
}
