using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace DaprShop.Basket.Baskets;

/// <summary>
/// Product ids the catalog confirmed lately, kept in this replica's memory for <see cref="BasketOptions.KnownProductsFor"/>:
/// a product shoppers keep adding costs one catalog lookup (two sidecar hops and the catalog's work) per period instead
/// of one per add, and can still be added while the catalog is down. Only "it exists" is kept, never "unknown", so a
/// product created a moment ago is never refused from memory; a product deleted meanwhile can be added until its entry
/// expires, and checkout (which prices every line from the catalog) refuses it with a reason the shopper can read.
/// </summary>
public sealed class KnownProducts(IOptions<BasketOptions> options, TimeProvider clock)
{
    /// <summary>A bound on memory: a catalog bigger than this only costs more lookups.</summary>
    internal const int Capacity = 10_000;

    private readonly ConcurrentDictionary<string, DateTimeOffset> _until = new(StringComparer.Ordinal);

    public bool Contains(string productId) => _until.TryGetValue(productId, out var until) && clock.GetUtcNow() < until;

    public void Remember(string productId)
    {
        var period = options.Value.KnownProductsFor;
        if (period <= TimeSpan.Zero)
        {
            return;
        }
        if (_until.Count >= Capacity)
        {
            _until.Clear();
        }
        _until[productId] = clock.GetUtcNow() + period;
    }
}
