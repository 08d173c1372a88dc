using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace DaprShop.Catalog.Store;

/// <summary>
/// This replica's own copy of its hottest reads, for a few seconds, in front of the shared <c>cache</c> component.
/// On a busy catalog most reads are the same few products and pages; each read of the shared cache is a round trip
/// through the sidecar, which costs more than building the answer. The shared cache stays the one the replicas share
/// and the one a miss fills; this one only spares the hop for a read repeated within
/// <see cref="CatalogOptions.NearCacheSeconds"/>. The same keys and the same rules apply: a product is evicted with the
/// shared entry on a change this replica makes or hears of, and an entry older than the snapshot's version of the
/// product is not served; a listing's key names the catalog version it was built from.
/// </summary>
public sealed class NearCache(IOptions<CatalogOptions> options) : IDisposable
{
    // Its own instance: a size limit on the application's shared IMemoryCache would bind every other user of it.
    private readonly MemoryCache _memory = new(new MemoryCacheOptions { SizeLimit = options.Value.NearCacheEntries });
    private readonly TimeSpan _lifetime = TimeSpan.FromSeconds(options.Value.NearCacheSeconds);

    public bool Enabled => _lifetime > TimeSpan.Zero;

    public T? Get<T>(string key) where T : class => Enabled && _memory.TryGetValue(key, out var value) ? value as T : null;

    public void Set<T>(string key, T value) where T : class
    {
        if (Enabled)
        {
            // Size 1 per entry: the bound (NearCacheEntries) is a count, whatever an entry weighs.
            _memory.Set(key, value, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = _lifetime, Size = 1 });
        }
    }

    public void Remove(string key) => _memory.Remove(key);

    public void Dispose() => _memory.Dispose();
}
