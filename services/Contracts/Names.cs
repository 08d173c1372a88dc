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

    /// <summary>
    /// The catalog's view of <see cref="StateStore"/> (same database, same keys) with Dapr's transactional outbox:
    /// a transaction on it publishes its upserts to <see cref="Topics.CatalogEvents"/> once committed.
    /// </summary>
    public const string CatalogStore = "catalogstore";

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
    /// <summary>Every catalog change event (Dapr's outbox has one topic per store); the CloudEvent type tells them apart: <see cref="CatalogEventTypes"/>.</summary>
    public const string CatalogEvents = "catalog.product-events";
    public const string StockRestocked = "inventory.restocked";
    public const string StockLow = "inventory.low-stock";
    public const string OrderSubmitted = "ordering.order-submitted";
    public const string OrderConfirmed = "ordering.order-confirmed";
    public const string OrderFailed = "ordering.order-failed";
    public const string OrderCancelled = "ordering.order-cancelled";

    public static string DeadLetter(string topic) => topic + ".dead-letter";
}

/// <summary>CloudEvent <c>type</c>s of the events on <see cref="Topics.CatalogEvents"/>; subscribers route on them.</summary>
public static class CatalogEventTypes
{
    /// <summary><c>ProductChanged</c>: a product was created or edited.</summary>
    public const string ProductChanged = "catalog.product-changed";

    /// <summary><c>ProductPriceChanged</c>.</summary>
    public const string PriceChanged = "catalog.price-changed";

    /// <summary><c>ProductDeleted</c>.</summary>
    public const string ProductDeleted = "catalog.product-deleted";

    /// <summary><c>CatalogVersionChanged</c>: the catalog document moved (every back-office change).</summary>
    public const string VersionChanged = "catalog.version-changed";

    /// <summary>The Dapr routing rule (CEL) that selects one type.</summary>
    public static string Match(string type) => $"event.type == \"{type}\"";
}
