using System.Globalization;
using System.Text.Json;
using Dapr;
using Dapr.Client;
using DaprShop.Catalog.Products;
using DaprShop.Contracts;
using DaprShop.ServiceDefaults;

namespace DaprShop.Catalog.Store;

public enum WriteOutcome { Done, NotFound, PreconditionFailed, Conflict }

public sealed record WriteResult(WriteOutcome Outcome, Product? Product = null)
{
    public static readonly WriteResult NotFound = new(WriteOutcome.NotFound);
    public static readonly WriteResult PreconditionFailed = new(WriteOutcome.PreconditionFailed);
    public static readonly WriteResult Conflict = new(WriteOutcome.Conflict);
}

/// <summary>
/// The back office's changes. Each is one state transaction guarded by ETags on both the product and the catalog
/// document (whose version it moves), so a concurrent edit makes the transaction fail instead of being overwritten:
/// the change is then re-read and re-applied, or refused with 412 when the client's <c>If-Match</c> no longer holds.
/// The transaction runs on <see cref="Components.CatalogStore"/>, the same data with Dapr's transactional outbox: the
/// change events ride in it as projections of its upserts, so a committed change is always announced (at least once,
/// with a stable CloudEvent id) and a failed one never is. After the commit it evicts this replica's cached copy;
/// the events evict the rest.
/// </summary>
public sealed partial class ProductCommands(DaprClient dapr, CatalogLoader loader, NearCache near, TimeProvider clock, ILogger<ProductCommands> logger)
{
    private const int Attempts = 5;
    private const string Store = Components.CatalogStore;

    public async Task<Product> CreateAsync(ValidProduct input, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var (document, documentETag) = await dapr.GetStateAndETagAsync<CatalogDocument?>(Store, CatalogKeys.Catalog, cancellationToken: cancellationToken);
            if (document is null)
            {
                throw new InvalidOperationException("the catalog is not seeded yet");
            }
            var product = new Product(ProductSeed.IdOf(document.NextNumber), input.Name, input.Description, input.Category, input.Brand, input.Price,
                input.Attributes, Available: true, CreatedAt: clock.GetUtcNow(), Version: 1);
            var next = document with { Version = document.Version + 1, ProductIds = [.. document.ProductIds, product.Id], NextNumber = document.NextNumber + 1 };
            var operations = Announce([Upsert(CatalogKeys.Product(product.Id), product, null, firstWrite: true), Upsert(CatalogKeys.Catalog, next, documentETag)],
                [(CatalogEventTypes.ProductChanged, Changed(product))], next.Version);
            if (await TryCommitAsync(Store, operations, cancellationToken))
            {
                await AfterChangeAsync(product.Id, cancellationToken);
                return product;
            }
            if (attempt == Attempts)
            {
                throw new InvalidOperationException("the catalog kept changing while a product was created");
            }
        }
    }

    public Task<WriteResult> UpdateAsync(string id, ValidProduct input, long? ifMatch, CancellationToken cancellationToken) =>
        ChangeAsync(id, ifMatch, p => p.Replace(input), (before, after) =>
            before.Price == after.Price
                ? [(CatalogEventTypes.ProductChanged, Changed(after))]
                : [(CatalogEventTypes.ProductChanged, Changed(after)), (CatalogEventTypes.PriceChanged, new ProductPriceChanged(after.Id, before.Price, after.Price, clock.GetUtcNow()))],
            cancellationToken);

    public Task<WriteResult> ChangePriceAsync(string id, Money price, long? ifMatch, CancellationToken cancellationToken) =>
        ChangeAsync(id, ifMatch, p => p.WithPrice(price), (before, after) =>
            [(CatalogEventTypes.PriceChanged, new ProductPriceChanged(after.Id, before.Price, after.Price, clock.GetUtcNow()))],
            cancellationToken);

    public async Task<WriteResult> DeleteAsync(string id, long? ifMatch, CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            var (document, documentETag) = await dapr.GetStateAndETagAsync<CatalogDocument?>(Store, CatalogKeys.Catalog, cancellationToken: cancellationToken);
            var (product, productETag) = await dapr.GetStateAndETagAsync<Product?>(Store, CatalogKeys.Product(id), cancellationToken: cancellationToken);
            if (product is null || document is null)
            {
                return WriteResult.NotFound;
            }
            if (ifMatch is { } expected && expected != product.Version)
            {
                return WriteResult.PreconditionFailed;
            }
            var next = document with { Version = document.Version + 1, ProductIds = [.. document.ProductIds.Where(p => p != id)] };
            var operations = Announce(
                [
                    new(CatalogKeys.Product(id), null, StateOperationType.Delete, productETag, options: new StateOptions { Concurrency = ConcurrencyMode.FirstWrite }),
                    Upsert(CatalogKeys.Catalog, next, documentETag),
                ],
                [(CatalogEventTypes.ProductDeleted, new ProductDeleted(id, clock.GetUtcNow()))], next.Version);
            if (await TryCommitAsync(Store, operations, cancellationToken))
            {
                await AfterChangeAsync(id, cancellationToken);
                return new WriteResult(WriteOutcome.Done, product);
            }
        }
        return WriteResult.Conflict;
    }

    /// <summary>
    /// Availability as inventory reports it, applied once per event: the processed-event marker is in the same
    /// transaction, so a duplicate delivery fails on the marker and changes nothing.
    /// </summary>
    public async Task SetAvailabilityAsync(string id, bool available, DateTimeOffset at, string handler, string? eventId, CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            if (eventId is not null && await ProcessedEvents.AlreadyMarkedAsync(dapr, Components.StateStore, handler, eventId, cancellationToken))
            {
                return;
            }
            var (document, documentETag) = await dapr.GetStateAndETagAsync<CatalogDocument?>(Components.StateStore, CatalogKeys.Catalog, cancellationToken: cancellationToken);
            var (product, productETag) = await dapr.GetStateAndETagAsync<Product?>(Components.StateStore, CatalogKeys.Product(id), cancellationToken: cancellationToken);
            var changed = product?.WithAvailability(available, at);
            var operations = new List<StateTransactionRequest>();
            if (eventId is not null)
            {
                operations.Add(ProcessedEvents.Marker(handler, eventId));
            }
            if (changed is not null && document is not null)
            {
                operations.Add(Upsert(CatalogKeys.Product(id), changed, productETag));
                operations.Add(Upsert(CatalogKeys.Catalog, document with { Version = document.Version + 1 }, documentETag));
            }
            if (operations.Count == 0 || await TryCommitAsync(Components.StateStore, operations, cancellationToken))
            {
                if (changed is not null)
                {
                    // Not a product event for other services: only this catalog's caches care about availability.
                    await EvictAsync(id, cancellationToken);
                    await loader.ReloadAsync(cancellationToken);
                }
                return;
            }
        }
        throw new InvalidOperationException($"the availability of {id} kept conflicting; the event will be redelivered");
    }

    private async Task<WriteResult> ChangeAsync(
        string id, long? ifMatch, Func<Product, Product> change, Func<Product, Product, IReadOnlyList<(string Type, object Event)>> events, CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            var (document, documentETag) = await dapr.GetStateAndETagAsync<CatalogDocument?>(Store, CatalogKeys.Catalog, cancellationToken: cancellationToken);
            var (product, productETag) = await dapr.GetStateAndETagAsync<Product?>(Store, CatalogKeys.Product(id), cancellationToken: cancellationToken);
            if (product is null || document is null)
            {
                return WriteResult.NotFound;
            }
            if (ifMatch is { } expected && expected != product.Version)
            {
                return WriteResult.PreconditionFailed;
            }
            var changed = change(product);
            var next = document with { Version = document.Version + 1 };
            var operations = Announce([Upsert(CatalogKeys.Product(id), changed, productETag), Upsert(CatalogKeys.Catalog, next, documentETag)], events(product, changed), next.Version);
            if (await TryCommitAsync(Store, operations, cancellationToken))
            {
                await AfterChangeAsync(id, cancellationToken);
                return new WriteResult(WriteOutcome.Done, changed);
            }
        }
        return WriteResult.Conflict;
    }

    /// <summary>
    /// False when a concurrent change beat this one. daprd reports a failed transaction as one generic error
    /// (ERR_STATE_TRANSACTION, whatever the cause), so the guarded keys are re-read: if one of them moved it was a
    /// conflict, otherwise the failure is real and is thrown.
    /// </summary>
    private async Task<bool> TryCommitAsync(string store, IReadOnlyList<StateTransactionRequest> operations, CancellationToken cancellationToken)
    {
        try
        {
            await dapr.ExecuteStateTransactionAsync(store, operations, cancellationToken: cancellationToken);
            return true;
        }
        catch (DaprException)
        {
            foreach (var operation in operations.Where(o => o.Options?.Concurrency == ConcurrencyMode.FirstWrite))
            {
                var (_, etag) = await dapr.GetStateAndETagAsync<JsonElement?>(store, operation.Key, cancellationToken: cancellationToken);
                if (!string.Equals(NullIfEmpty(etag), NullIfEmpty(operation.ETag), StringComparison.Ordinal))
                {
                    LogConflict(logger, operation.Key);
                    return false;
                }
            }
            throw;
        }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>
    /// Dapr's outbox publishes every upsert of the transaction; each one's projection (published, not saved) is one of
    /// the change's events, typed by <c>outbox.cloudevent.type</c>. An upsert left without an event of its own (the
    /// catalog document, usually) announces the catalog's new version.
    /// </summary>
    private List<StateTransactionRequest> Announce(List<StateTransactionRequest> operations, IReadOnlyList<(string Type, object Event)> events, long version)
    {
        var upserts = operations.Where(o => o.OperationType == StateOperationType.Upsert).ToList();
        if (events.Count > upserts.Count)
        {
            throw new InvalidOperationException("a change announces at most one event per key it writes");
        }
        var announced = new List<StateTransactionRequest>(operations);
        for (var i = 0; i < upserts.Count; i++)
        {
            var (type, @event) = i < events.Count ? events[i] : (CatalogEventTypes.VersionChanged, new CatalogVersionChanged(version, clock.GetUtcNow()));
            // Declared as object, System.Text.Json writes the event's own type.
            announced.Add(new StateTransactionRequest(upserts[i].Key, JsonSerializer.SerializeToUtf8Bytes<object>(@event, Json.Options), StateOperationType.Upsert,
                metadata: new Dictionary<string, string> { ["outbox.projection"] = "true", ["outbox.cloudevent.type"] = type }));
        }
        return announced;
    }

    /// <summary>The change and its events are committed: evict and reload this replica's copies.</summary>
    private async Task AfterChangeAsync(string id, CancellationToken cancellationToken)
    {
        await EvictAsync(id, cancellationToken);
        await loader.ReloadAsync(cancellationToken);
    }

    public async Task EvictAsync(string id, CancellationToken cancellationToken)
    {
        near.Remove(CatalogKeys.CachedProduct(id));
        try
        {
            await dapr.DeleteStateAsync(Components.Cache, CatalogKeys.CachedProduct(id), cancellationToken: cancellationToken);
        }
        catch (DaprException e)
        {
            LogCacheUnavailable(logger, e);
        }
    }

    private ProductChanged Changed(Product p) => new(p.Id, p.Name, p.Category, p.Brand, p.Price, clock.GetUtcNow());

    private static StateTransactionRequest Upsert<T>(string key, T value, string? etag, bool firstWrite = false) =>
        new(key, JsonSerializer.SerializeToUtf8Bytes(value, Json.Options), StateOperationType.Upsert,
            string.IsNullOrEmpty(etag) ? null : etag,
            options: firstWrite || !string.IsNullOrEmpty(etag) ? new StateOptions { Concurrency = ConcurrencyMode.FirstWrite } : null);

    public static long? ParseIfMatch(string? header) =>
        header is { Length: > 2 } h && h[0] == '"' && h[^1] == '"' && long.TryParse(h[1..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;

    [LoggerMessage(Level = LogLevel.Information, Message = "Concurrent change around {Key}; re-reading")]
    private static partial void LogConflict(ILogger logger, string key);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The cache store is unavailable; serving from the state store")]
    internal static partial void LogCacheUnavailable(ILogger logger, Exception exception);
}
