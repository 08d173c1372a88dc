using System.Globalization;

namespace DaprShop.Inventory.Stock;

/// <summary>
/// The opening stock of the catalog's seeded products <c>p-0001</c>..<c>p-0500</c>: a deterministic 0..50 units each
/// (every 51st product starts out of stock). A SKU actor with no stored state takes its opening stock from here the
/// first time it is used, so seeding is idempotent and costs nothing at start-up (no 500 writes racing the first
/// requests); once stored, the seed never applies to that SKU again.
/// </summary>
public static class StockSeed
{
    public const int Products = 500;

    public static int? OpeningStock(string productId)
    {
        if (productId.Length != 6 || !productId.StartsWith("p-", StringComparison.Ordinal)
            || !int.TryParse(productId.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n is < 1 or > Products)
        {
            return null;
        }
        return n * 37 % 51;
    }
}
