namespace DaprShop.Contracts;

/// <summary>The Dapr app id of every part of the shop: the one place these names are written.</summary>
public static class AppIds
{
    public const string Catalog = "catalog";
    public const string Basket = "basket";
    public const string Inventory = "inventory";
    public const string Ordering = "ordering";
    public const string Payment = "payment";
    public const string Notifications = "notifications";
    public const string Gateway = "gateway";
    public const string Storefront = "storefront";
}

/// <summary>Dapr component names. Profiles under <c>components/</c> bind each name to a backend.</summary>
public static class Components
{
    /// <summary>Durable state; also the actor state store (actors, workflows).</summary>
    public const string StateStore = "statestore";

    /// <summary>A state store used as a read cache (entries carry a TTL).</summary>
    public const string Cache = "cache";

    public const string PubSub = "pubsub";
    public const string SecretStore = "secretstore";

    /// <summary>Outgoing e-mail: local .eml files by default, SMTP elsewhere.</summary>
    public const string Outbox = "outbox";
}

/// <summary>Pub/sub topics. Every subscription also names a dead-letter topic: <see cref="DeadLetter"/>.</summary>
public static class Topics
{
    public const string ProductChanged = "catalog.product-changed";
    public const string ProductPriceChanged = "catalog.price-changed";
    public const string ProductDeleted = "catalog.product-deleted";
    public const string StockRestocked = "inventory.restocked";
    public const string StockLow = "inventory.low-stock";
    public const string OrderSubmitted = "ordering.order-submitted";
    public const string OrderConfirmed = "ordering.order-confirmed";
    public const string OrderFailed = "ordering.order-failed";
    public const string OrderCancelled = "ordering.order-cancelled";

    public static string DeadLetter(string topic) => topic + ".dead-letter";
}
