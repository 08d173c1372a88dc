using System.Text.Json;
using Dapr;
using Dapr.Client;
using DaprShop.Catalog.Products;
using DaprShop.Catalog.Search;
using DaprShop.Contracts;
using Microsoft.Extensions.Options;

namespace DaprShop.Catalog.Store;

/// <summary>
/// Seeds the catalog on the very first start, loads this replica's snapshot, and reloads it whenever the stored
/// catalog version moves (checked every <see cref="CatalogOptions.RefreshSeconds"/> and on every change event).
/// </summary>
public sealed partial class CatalogLoader(DaprClient dapr, CatalogSnapshot snapshot, IOptions<CatalogOptions> options, ILogger<CatalogLoader> logger)
    : BackgroundService
{
    private readonly SemaphoreSlim _reloadGate = new(1, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await dapr.WaitForSidecarAsync(stoppingToken);
        while (!snapshot.Loaded)
        {
            try
            {
                await EnsureSeededAsync(stoppingToken);
                await ReloadAsync(stoppingToken);
            }
            catch (Exception e) when (e is DaprException or HttpRequestException && !stoppingToken.IsCancellationRequested)
            {
                LogLoadFailed(logger, e);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.RefreshSeconds));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RefreshIfStaleAsync(stoppingToken);
            }
            catch (DaprException e)
            {
                // The snapshot stays as it is: stale reads beat no reads.
                LogRefreshFailed(logger, e);
            }
        }
    }

    /// <summary>
    /// Writes the seed products unless the catalog document exists. Products go in with first-write concurrency,
    /// a batch per transaction: a start that crashed half-way resumes, and two replicas seeding at once (or a seed
    /// racing a back-office edit) can never overwrite a product that is already stored.
    /// </summary>
    internal async Task EnsureSeededAsync(CancellationToken cancellationToken)
    {
        if (await dapr.GetStateAsync<CatalogDocument?>(Components.StateStore, CatalogKeys.Catalog, cancellationToken: cancellationToken) is not null)
        {
            return;
        }
        var products = ProductSeed.Generate(options.Value.SeedProducts);
        var firstWrite = new StateOptions { Concurrency = ConcurrencyMode.FirstWrite };
        foreach (var batch in products.Chunk(options.Value.SeedBatchSize))
        {
            var operations = batch
                .Select(p => new StateTransactionRequest(CatalogKeys.Product(p.Id), JsonSerializer.SerializeToUtf8Bytes(p, Json.Options), StateOperationType.Upsert, options: firstWrite))
                .ToList();
            try
            {
                await dapr.ExecuteStateTransactionAsync(Components.StateStore, operations, cancellationToken: cancellationToken);
            }
            catch (DaprException)
            {
                // Written by an earlier, interrupted start or by another replica (a transaction is all or nothing);
                // anything else is a real failure.
                if (await dapr.GetStateAsync<Product?>(Components.StateStore, CatalogKeys.Product(batch[0].Id), cancellationToken: cancellationToken) is null)
                {
                    throw;
                }
            }
        }
        var document = new CatalogDocument(1, [.. products.Select(p => p.Id)], products.Count + 1);
        try
        {
            await dapr.SaveStateAsync(Components.StateStore, CatalogKeys.Catalog, document, firstWrite, cancellationToken: cancellationToken);
            LogSeeded(logger, products.Count);
        }
        catch (DaprException)
        {
            // Another replica may have finished first.
            if (await dapr.GetStateAsync<CatalogDocument?>(Components.StateStore, CatalogKeys.Catalog, cancellationToken: cancellationToken) is null)
            {
                throw;
            }
        }
    }

    public async Task RefreshIfStaleAsync(CancellationToken cancellationToken)
    {
        var document = await dapr.GetStateAsync<CatalogDocument?>(Components.StateStore, CatalogKeys.Catalog, cancellationToken: cancellationToken);
        if (document is not null && document.Version != snapshot.Index.Version)
        {
            await ReloadAsync(cancellationToken);
        }
    }

    /// <summary>Reads the catalog document and every product it lists, and swaps in a new snapshot.</summary>
    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        await _reloadGate.WaitAsync(cancellationToken);
        try
        {
            var document = await dapr.GetStateAsync<CatalogDocument?>(Components.StateStore, CatalogKeys.Catalog, cancellationToken: cancellationToken)
                ?? throw new InvalidOperationException("the catalog is not seeded");
            if (snapshot.Loaded && snapshot.Index.Version == document.Version)
            {
                return;
            }
            var items = await dapr.GetBulkStateAsync<Product?>(
                Components.StateStore, [.. document.ProductIds.Select(CatalogKeys.Product)], parallelism: 8, cancellationToken: cancellationToken);
            var products = items.Select(i => i.Value).OfType<Product>();
            snapshot.Replace(new SearchIndex(products, document.Version));
            LogLoaded(logger, snapshot.Index.Count, document.Version);
        }
        finally
        {
            _reloadGate.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Seeded the catalog with {Count} products")]
    private static partial void LogSeeded(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded {Count} products at catalog version {Version}")]
    private static partial void LogLoaded(ILogger logger, int count, long version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not load the catalog yet; retrying")]
    private static partial void LogLoadFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not check the catalog version")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
