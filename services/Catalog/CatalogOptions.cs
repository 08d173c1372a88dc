using System.ComponentModel.DataAnnotations;

namespace DaprShop.Catalog;

/// <summary>The <c>Catalog</c> configuration section.</summary>
public sealed class CatalogOptions
{
    public const string Section = "Catalog";

    /// <summary>How many products the first start writes.</summary>
    [Range(0, 9_999)]
    public int SeedProducts { get; set; } = 500;

    /// <summary>Products per state transaction while seeding.</summary>
    [Range(1, 500)]
    public int SeedBatchSize { get; set; } = 50;

    /// <summary>The one currency the catalog sells in.</summary>
    [Required, RegularExpression("^[A-Z]{3}$")]
    public string Currency { get; set; } = "EUR";

    /// <summary>How long a product read stays in the cache store (the change events delete it sooner).</summary>
    [Range(1, 86_400)]
    public int ProductCacheSeconds { get; set; } = 300;

    /// <summary>How long a listing page stays in the cache store (its key names the catalog version it was built from).</summary>
    [Range(1, 86_400)]
    public int ListingCacheSeconds { get; set; } = 60;

    /// <summary>
    /// How long a replica keeps a read in its own memory in front of the cache store (0 turns that off). A change made
    /// through another replica reaches this one's readers within this long at most (sooner once its snapshot reloads).
    /// </summary>
    [Range(0, 60)]
    public int NearCacheSeconds { get; set; } = 2;

    /// <summary>How many reads a replica keeps in memory at most.</summary>
    [Range(1, 1_000_000)]
    public int NearCacheEntries { get; set; } = 10_000;

    /// <summary>
    /// How often a replica checks the stored catalog version. Change events reach one replica of the catalog (the
    /// app id is one consumer group), so the others notice changes by this check.
    /// </summary>
    [Range(1, 3_600)]
    public int RefreshSeconds { get; set; } = 5;
}
