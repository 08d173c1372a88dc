namespace DaprShop.Ordering.Orders;

/// <summary>
/// State keys of the order read model: one document per order, one history index per shopper and, for the back
/// office, the orders of each day of submission (UTC) spread over <see cref="DayShards"/> keys (Dapr reserves "||" in keys).
/// </summary>
public static class OrderReadModel
{
    /// <summary>
    /// A day's orders are sharded by order id: every checkout adds itself to its day's index, so one key per day would
    /// be a hot spot (optimistic writes retrying against each other) and one document rewritten whole and growing with
    /// every order. The state query API would do instead, but the embedded sqlite store has none.
    /// </summary>
    public const int DayShards = 16;

    public static string OrderKey(string orderId) => $"order:{orderId}";

    public static string ShopperKey(string shopperId) => $"shopper-orders:{shopperId}";

    public static string DayKey(DateOnly day, int shard) => $"orders-by-day:{day:yyyy-MM-dd}:{shard:00}";

    /// <summary>The day shard that lists an order.</summary>
    public static string DayKey(DateTimeOffset submittedAt, string orderId) =>
        DayKey(DateOnly.FromDateTime(submittedAt.UtcDateTime), Shard(orderId));

    public static IEnumerable<string> DayKeys(DateOnly day) => Enumerable.Range(0, DayShards).Select(s => DayKey(day, s));

    // FNV-1a: stable across processes and restarts (string.GetHashCode is not).
    internal static int Shard(string orderId)
    {
        var hash = 2166136261u;
        foreach (var c in orderId)
        {
            hash = (hash ^ c) * 16777619u;
        }
        return (int)(hash % DayShards);
    }
}

/// <summary>A shopper's order ids, newest first (<see cref="OrderReadModel.ShopperKey"/>).</summary>
public sealed record ShopperOrders(IReadOnlyList<string> OrderIds);

/// <summary>One shard of a day's orders (<see cref="OrderReadModel.DayKey(DateOnly, int)"/>), newest first.</summary>
public sealed record DayOrders(IReadOnlyList<DayOrder> Orders);

public sealed record DayOrder(string OrderId, DateTimeOffset SubmittedAt);
