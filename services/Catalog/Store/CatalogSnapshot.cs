using DaprShop.Catalog.Search;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DaprShop.Catalog.Store;

/// <summary>This replica's current in-memory catalog; swapped whole, never mutated.</summary>
public sealed class CatalogSnapshot
{
    private SearchIndex? _index;

    public SearchIndex Index => Volatile.Read(ref _index) ?? SearchIndex.Empty;
    public bool Loaded => Volatile.Read(ref _index) is not null;

    /// <summary>Keeps the newer of the two: reloads can finish out of order.</summary>
    public void Replace(SearchIndex index)
    {
        while (true)
        {
            var current = Volatile.Read(ref _index);
            if (current is not null && current.Version > index.Version)
            {
                return;
            }
            if (Interlocked.CompareExchange(ref _index, index, current) == current)
            {
                return;
            }
        }
    }
}

/// <summary>Not ready until the catalog is seeded and loaded: an empty listing would look like an empty shop.</summary>
public sealed class CatalogLoadedCheck(CatalogSnapshot snapshot) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(snapshot.Loaded ? HealthCheckResult.Healthy($"{snapshot.Index.Count} products") : HealthCheckResult.Unhealthy("the catalog is still loading"));
}
