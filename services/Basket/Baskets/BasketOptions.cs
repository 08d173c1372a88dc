using System.ComponentModel.DataAnnotations;

namespace DaprShop.Basket.Baskets;

/// <summary>Section <c>Basket</c>.</summary>
public sealed class BasketOptions
{
    public const string Section = "Basket";

    /// <summary>A basket left untouched this long is cleared by its reminder.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan AbandonedAfter { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How long a product the catalog confirmed is taken as existing without asking again (0 asks every time).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan KnownProductsFor { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>An actor unused this long is deactivated (its state stays in the store).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan ActorIdleTimeout { get; set; } = TimeSpan.FromMinutes(15);
}
