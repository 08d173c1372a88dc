namespace DaprShop.Ordering.Orders;

/// <summary>State keys of the order read model: one document per order and one history index per shopper (Dapr reserves "||" in keys).</summary>
public static class OrderReadModel
{
    public static string OrderKey(string orderId) => $"order:{orderId}";

    public static string ShopperKey(string shopperId) => $"shopper-orders:{shopperId}";
}

/// <summary>A shopper's order ids, newest first.</summary>
public sealed record ShopperOrders(IReadOnlyList<string> OrderIds);
