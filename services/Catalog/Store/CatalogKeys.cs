namespace DaprShop.Catalog.Store;

/// <summary>
/// The keys the catalog writes. Durable state (<c>statestore</c>): one document per product and the catalog
/// document, whose version moves with every change in the same transaction (so any replica can tell whether its
/// snapshot is current with one read). Cache (<c>cache</c>): product reads and listing pages, with a TTL.
/// </summary>
public static class CatalogKeys
{
    // No "||" in keys: Dapr reserves it for the app-id prefix and refuses such keys.
    public const string Catalog = "catalog";

    public static string Product(string id) => "product:" + id;

    public static string CachedProduct(string id) => "product:" + id;

    /// <summary>The catalog version is part of the key: a change makes every older page unreachable at once.</summary>
    public static string CachedListing(long version, string query) => $"listing:{version}:{query}";
}

/// <summary>The stored catalog document: every product id, the next number for a new id, and the version.</summary>
public sealed record CatalogDocument(long Version, IReadOnlyList<string> ProductIds, int NextNumber);
