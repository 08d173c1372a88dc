using System.ComponentModel.DataAnnotations;

namespace DaprShop.Inventory;

/// <summary>Section <c>Inventory</c>.</summary>
public sealed class InventoryOptions
{
    public const string Section = "Inventory";

    /// <summary><c>StockLow</c> is published when a SKU's available units fall below this.</summary>
    [Range(1, 10_000)]
    public int LowStockThreshold { get; set; } = 5;

    /// <summary>Give the catalog's seeded products their opening stock (see <c>StockSeed</c>).</summary>
    public bool SeedCatalogProducts { get; set; } = true;

    /// <summary>How long a finished reservation (confirmed, released, expired, rejected) is remembered for idempotency.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "90.00:00:00")]
    public TimeSpan KeepFinishedReservations { get; set; } = TimeSpan.FromDays(7);

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan ActorIdleTimeout { get; set; } = TimeSpan.FromMinutes(15);
}
