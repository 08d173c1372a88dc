using Dapr.Actors;
using DaprShop.Contracts;

namespace DaprShop.Inventory.Stock;

/// <summary>Units of one SKU held for a reservation.</summary>
public sealed record StockHold(string ReservationId, int Quantity);

/// <summary>
/// One actor per SKU (actor id = product id). Dapr runs one call per actor at a time, so "is there enough?" and
/// "take it" are one step: concurrent checkouts cannot both take the last unit.
/// </summary>
public interface IStockActor : IActor
{
    /// <summary>The stock, or null for a product this inventory has never stocked.</summary>
    Task<StockDto?> GetAsync();
    Task<HoldOutcome> HoldAsync(StockHold hold);
    Task ReleaseAsync(string reservationId);
    Task ConfirmAsync(string reservationId);
    /// <summary>Puts the units a confirmed reservation took back on hand, once per reservation.</summary>
    Task ReturnAsync(StockHold sold);
    Task<StockDto> RestockAsync(int quantity);
}
