namespace DaprShop.Ordering.Orders;

/// <summary>
/// State keys of the order read model: one document per order, one history index per shopper and one index per
/// day of submission (UTC) that lists every order for the back office (Dapr reserves "||" in keys).
/// </summary>
public static class OrderReadModel
{
    public static string OrderKey(string orderId) => $"order:{orderId}";

    public static string ShopperKey(string shopperId) => $"shopper-orders:{shopperId}";

    /// <summary>
    /// One key per day rather than one for all orders: a listing reads only the days it shows, and a day's index
    /// stays small (the state query API would do, but the embedded sqlite store has none).
    /// </summary>
    public static string DayKey(DateOnly day) => $"orders-by-day:{day:yyyy-MM-dd}";

    public static string DayKey(DateTimeOffset submittedAt) => DayKey(DateOnly.FromDateTime(submittedAt.UtcDateTime));
}

/// <summary>Order ids, newest first: a shopper's history (<see cref="OrderReadModel.ShopperKey"/>) or a day's orders (<see cref="OrderReadModel.DayKey(DateOnly)"/>).</summary>
public sealed record ShopperOrders(IReadOnlyList<string> OrderIds);
