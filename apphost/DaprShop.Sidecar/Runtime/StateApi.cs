using System.Globalization;
using DaprShop.Sidecar.Components.State;
using DaprShop.Sidecar.Hosting;
using DaprShop.Sidecar.Resiliency;

namespace DaprShop.Sidecar.Runtime;

/// <summary>A state item as either API hands it to the core: the value already as bytes.</summary>
public sealed record StateItemInput(string Key, byte[] Value, string? ETag, string? Concurrency, IReadOnlyDictionary<string, string> Metadata, string? Consistency = null);

public sealed record StateGetResult(byte[] Value, string ETag, IReadOnlyDictionary<string, string> Metadata);

public sealed record BulkStateItem(string Key, byte[]? Value, string? ETag, string? Error, IReadOnlyDictionary<string, string> Metadata);

public sealed record TransactionInput(string Operation, StateItemInput Request);

/// <summary>
/// The state building block, shared by the HTTP and gRPC APIs: store lookup, Dapr's key prefixes, TTL metadata,
/// concurrency modes, resiliency, and the mapping of store errors to Dapr's codes.
/// </summary>
public sealed class StateApi(ComponentHost components, SidecarOptions options, ResiliencyEngine resiliency, StateOutbox outbox, Tracing.SidecarMetrics metrics)
{
    private static readonly IReadOnlyDictionary<string, string> NoMetadata = new Dictionary<string, string>();

    public StateStoreInfo Store(string name)
    {
        if (components.StateStores.Count == 0)
        {
            throw DaprErrors.StateStoresNotConfigured(name ?? "", options.AppId);
        }
        return components.StateStores.TryGetValue(name ?? "", out var info) ? info : throw DaprErrors.StateStoreNotFound(name ?? "", options.AppId);
    }

    public async Task<StateGetResult?> GetAsync(string storeName, string key, IReadOnlyDictionary<string, string> metadata, CancellationToken ct)
    {
        // Each call is counted in daprd's state metrics (SidecarMetrics); an unknown store fails before any store call,
        // so daprd counts nothing then, and neither does this.
        var store = Store(storeName);
        return await metrics.StateAsync(store.Name, Tracing.SidecarMetrics.Get, () => GetCoreAsync(store, key, ct));
    }

    private async Task<StateGetResult?> GetCoreAsync(StateStoreInfo store, string key, CancellationToken ct)
    {
        var fullKey = StoreKey(store, key);
        StateEntry? entry;
        try
        {
            entry = await resiliency.ForComponentOutbound(store.Name).ExecuteAsync(c => store.Store.GetAsync(fullKey, c), ct);
        }
        catch (Exception ex) when (ex is not DaprApiException and not OperationCanceledException)
        {
            throw DaprErrors.StateGet(key, store.Name, ex);
        }
        return entry is null ? null : new StateGetResult(entry.Value, entry.ETag, EntryMetadata(entry));
    }

    public async Task<IReadOnlyList<BulkStateItem>> GetBulkAsync(string storeName, IReadOnlyList<string> keys, int parallelism, IReadOnlyDictionary<string, string> metadata, CancellationToken ct)
    {
        var store = Store(storeName);
        return await metrics.StateAsync(store.Name, Tracing.SidecarMetrics.BulkGet, () => GetBulkCoreAsync(store, keys, parallelism, ct));
    }

    private async Task<IReadOnlyList<BulkStateItem>> GetBulkCoreAsync(StateStoreInfo store, IReadOnlyList<string> keys, int parallelism, CancellationToken ct)
    {
        foreach (var key in keys)
        {
            StoreKey(store, key); // validate every key before reading any
        }
        var results = new BulkStateItem[keys.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, keys.Count),
            new ParallelOptions { MaxDegreeOfParallelism = parallelism > 0 ? parallelism : 16, CancellationToken = ct },
            async (i, c) =>
            {
                try
                {
                    var entry = await resiliency.ForComponentOutbound(store.Name).ExecuteAsync(t => store.Store.GetAsync(StoreKey(store, keys[i]), t), c);
                    results[i] = entry is null
                        ? new BulkStateItem(keys[i], null, null, null, NoMetadata)
                        : new BulkStateItem(keys[i], entry.Value, entry.ETag, null, EntryMetadata(entry));
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    results[i] = new BulkStateItem(keys[i], null, null, ex.Message, NoMetadata);
                }
            });
        return results;
    }

    /// <summary>Saves the items one by one; a failure does not undo the others, and the error names the keys that failed.</summary>
    public async Task SaveAsync(string storeName, IReadOnlyList<StateItemInput> items, CancellationToken ct)
    {
        var store = Store(storeName);
        await metrics.StateAsync(store.Name, Tracing.SidecarMetrics.Set, () => SaveCoreAsync(store, items, ct));
    }

    private async Task SaveCoreAsync(StateStoreInfo store, IReadOnlyList<StateItemInput> items, CancellationToken ct)
    {
        var operations = Checked(() => items.Select(i => ToSet(store, i)).ToList(), ex => DaprErrors.StateSave(store.Name, ex));
        var failures = new List<(string Key, Exception Error)>();
        foreach (var (op, item) in operations.Zip(items))
        {
            try
            {
                await resiliency.ForComponentOutbound(store.Name).ExecuteAsync(c => store.Store.SetAsync(op, c), ct, isRetriable: IsRetriable);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                failures.Add((item.Key, ex));
            }
        }
        ThrowFor(failures, items.Count, "ERR_STATE_SAVE", ex => DaprErrors.StateSave(store.Name, ex), $"failed saving state in state store {store.Name}");
    }

    public Task DeleteAsync(string storeName, string key, string? etag, string? concurrency, IReadOnlyDictionary<string, string> metadata, CancellationToken ct, string? consistency = null) =>
        DeleteBulkAsync(storeName, [new StateItemInput(key, [], etag, concurrency, metadata, consistency)], ct, "ERR_STATE_DELETE");

    /// <summary>Deletes the items one by one; <paramref name="code"/> is daprd's error code for the call (gRPC's bulk delete has its own).</summary>
    public async Task DeleteBulkAsync(string storeName, IReadOnlyList<StateItemInput> items, CancellationToken ct, string code = "ERR_STATE_BULK_DELETE")
    {
        var store = Store(storeName);
        await metrics.StateAsync(store.Name, code == "ERR_STATE_DELETE" ? Tracing.SidecarMetrics.Delete : Tracing.SidecarMetrics.BulkDelete, () => DeleteBulkCoreAsync(store, items, ct, code));
    }

    private async Task DeleteBulkCoreAsync(StateStoreInfo store, IReadOnlyList<StateItemInput> items, CancellationToken ct, string code)
    {
        var operations = Checked(
            () => items.Select(i => new DeleteOperation(StoreKey(store, i.Key), NullIfEmpty(i.ETag), ParseConcurrency(i.Concurrency, i.Consistency))).ToList(),
            ex => DaprErrors.StateDelete(string.Join(",", items.Select(i => i.Key)), ex, code));
        var failures = new List<(string Key, Exception Error)>();
        foreach (var (op, item) in operations.Zip(items))
        {
            try
            {
                await resiliency.ForComponentOutbound(store.Name).ExecuteAsync(async c => { await store.Store.DeleteAsync(op, c); return true; }, ct, isRetriable: IsRetriable);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                failures.Add((item.Key, ex));
            }
        }
        ThrowFor(failures, items.Count, code, ex => DaprErrors.StateDelete(string.Join(",", failures.Select(f => f.Key)), ex, code),
            $"failed deleting state with key {string.Join(",", failures.Select(f => f.Key))}");
    }

    /// <summary>The store, which must support transactions (checked before a request's body is read, as daprd does).</summary>
    public StateStoreInfo TransactionalStore(string name) => RequireTransactions(Store(name));

    private static StateStoreInfo RequireTransactions(StateStoreInfo store) =>
        store.Store.SupportsTransactions ? store : throw DaprErrors.TransactionsNotSupported(store.Name);

    public async Task TransactAsync(string storeName, IReadOnlyList<TransactionInput> operations, IReadOnlyDictionary<string, string> metadata, CancellationToken ct)
    {
        var store = Store(storeName);
        await metrics.StateAsync(store.Name, Tracing.SidecarMetrics.Transaction, () => TransactCoreAsync(store, operations, ct));
    }

    private async Task TransactCoreAsync(StateStoreInfo store, IReadOnlyList<TransactionInput> operations, CancellationToken ct)
    {
        RequireTransactions(store);
        // On an outbox store, projections only shape the events and are not saved.
        IReadOnlyList<TransactionInput> saved = operations;
        List<TransactionInput> projections = [];
        if (store.Outbox is not null)
        {
            projections = operations.Where(StateOutbox.IsProjection).ToList();
            saved = operations.Where(o => !StateOutbox.IsProjection(o)).ToList();
        }
        var ops = new List<StateOperation>(operations.Count);
        foreach (var op in saved)
        {
            // A bad TTL or option fails the store's transaction in daprd: ERR_STATE_TRANSACTION.
            ops.Add(Checked<StateOperation>(() => op.Operation switch
            {
                "upsert" => ToSet(store, op.Request),
                "delete" => new DeleteOperation(StoreKey(store, op.Request.Key), NullIfEmpty(op.Request.ETag), ParseConcurrency(op.Request.Concurrency, op.Request.Consistency)),
                _ => throw DaprErrors.NotSupportedStateOperation(op.Operation),
            }, DaprErrors.StateTransaction));
        }
        // The events travel in the same transaction as the state they announce.
        var records = store.Outbox is { } settings ? outbox.Plan(settings, saved, projections, key => StoreKey(store, key)) : [];
        if (ops.Count == 0)
        {
            return;
        }
        ops.AddRange(records.Select(outbox.RecordOperation));
        try
        {
            await resiliency.ForComponentOutbound(store.Name).ExecuteAsync(async c => { await store.Store.TransactAsync(ops, c); return true; }, ct, isRetriable: IsRetriable);
        }
        catch (Exception ex) when (ex is not DaprApiException and not OperationCanceledException)
        {
            outbox.Abandon(records);
            throw DaprErrors.StateTransaction(ex);
        }
        catch
        {
            outbox.Abandon(records);
            throw;
        }
        if (records.Count > 0)
        {
            // Committed: the request succeeds whatever the broker says; a record not published now is retried by the relay.
            await outbox.RelayAsync(store, records, CancellationToken.None);
        }
    }

    public async Task<(IReadOnlyList<StateQueryItem> Items, string? Token)> QueryAsync(string storeName, byte[] queryJson, CancellationToken ct)
    {
        var store = Store(storeName);
        return await metrics.StateAsync(store.Name, Tracing.SidecarMetrics.Query, () => QueryCoreAsync(store, queryJson, ct));
    }

    private async Task<(IReadOnlyList<StateQueryItem> Items, string? Token)> QueryCoreAsync(StateStoreInfo store, byte[] queryJson, CancellationToken ct)
    {
        if (store.Store is not IQueryableStateStore queryable)
        {
            throw DaprErrors.StateQueryNotSupported(store.Name);
        }
        StateQuery query;
        try
        {
            query = StateQuery.Parse(queryJson);
        }
        catch (FormatException ex)
        {
            throw DaprErrors.StateQuery(store.Name, ex.Message);
        }
        try
        {
            var prefix = KeyPrefix(store);
            var result = await queryable.QueryAsync(query, prefix, ct);
            var items = result.Items.Select(i => i with { Key = Unprefix(prefix, i.Key) }).ToList();
            return (items, result.Token);
        }
        catch (Exception ex) when (ex is not DaprApiException and not OperationCanceledException)
        {
            throw DaprErrors.StateQuery(store.Name, ex.Message);
        }
    }

    private SetOperation ToSet(StateStoreInfo store, StateItemInput item) =>
        new(StoreKey(store, item.Key), item.Value, NullIfEmpty(item.ETag), ParseConcurrency(item.Concurrency, item.Consistency), ParseTtl(item.Metadata));

    /// <summary>The key as stored: <c>{prefix}||{key}</c>, with the prefix chosen by the store's <c>keyPrefix</c> metadata.</summary>
    public string StoreKey(StateStoreInfo store, string key)
    {
        if (string.IsNullOrEmpty(key))
        {
            throw DaprErrors.MalformedRequest("\"key\" is a required field");
        }
        if (key.Contains("||", StringComparison.Ordinal))
        {
            throw DaprErrors.StateInvalidKey(store.Name, key);
        }
        var prefix = KeyPrefix(store);
        return prefix.Length == 0 ? key : prefix + key;
    }

    /// <summary>The prefix including the <c>||</c> separator, or empty for <c>keyPrefix: none</c>.</summary>
    public string KeyPrefix(StateStoreInfo store) => (store.KeyPrefix?.ToLowerInvariant()) switch
    {
        null or "" or "appid" => options.AppId + "||",
        "name" => store.Name + "||",
        "namespace" => (options.Namespace.Length > 0 ? $"{options.Namespace}.{options.AppId}" : options.AppId) + "||",
        "none" => "",
        _ => store.KeyPrefix + "||",
    };

    private static string Unprefix(string prefix, string key) =>
        prefix.Length > 0 && key.StartsWith(prefix, StringComparison.Ordinal) ? key[prefix.Length..] : key;

    /// <summary>
    /// The request's options, checked as daprd's stores check them (an error of the store, so a 500 of the call):
    /// concurrency <c>first-write</c> or <c>last-write</c>, consistency <c>eventual</c> or <c>strong</c>, or empty.
    /// </summary>
    private static Concurrency ParseConcurrency(string? value, string? consistency)
    {
        if (consistency is not (null or "" or "eventual" or "strong"))
        {
            throw new FormatException($"unrecognized consistency model '{consistency}'");
        }
        return value switch
        {
            null or "" or "last-write" => Concurrency.LastWrite,
            "first-write" => Concurrency.FirstWrite,
            _ => throw new FormatException($"unrecognized concurrency model '{value}'"),
        };
    }

    /// <summary>Reads <c>ttlInSeconds</c> (a 32-bit number, as daprd's): a positive number sets the TTL; -1, 0 or absent means none.</summary>
    public static TimeSpan? ParseTtl(IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue("ttlInSeconds", out var text) || string.IsNullOrEmpty(text))
        {
            return null;
        }
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds))
        {
            throw new FormatException($"error parsing TTL: incorrect value for metadata 'ttlInSeconds': strconv.ParseInt: parsing \"{text}\": invalid syntax");
        }
        if (seconds < -1)
        {
            throw new FormatException($"error parsing TTL: incorrect value for metadata 'ttlInSeconds': value must be -1 or greater, got {seconds}");
        }
        return seconds > 0 ? TimeSpan.FromSeconds(seconds) : null;
    }

    /// <summary>Runs <paramref name="build"/>, turning a malformed option or TTL into the call's own error.</summary>
    private static T Checked<T>(Func<T> build, Func<Exception, DaprApiException> error)
    {
        try
        {
            return build();
        }
        catch (FormatException ex)
        {
            throw error(ex);
        }
    }

    public static IReadOnlyDictionary<string, string> EntryMetadata(StateEntry entry) =>
        entry.ExpiresAt is { } at
            ? new Dictionary<string, string> { ["ttlExpireTime"] = at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) }
            : NoMetadata;

    private static bool IsRetriable(Exception ex) => ex is not (ETagMismatchException or ETagInvalidException or DaprApiException);

    /// <summary>A bulk request's error names the keys that failed (as daprd's bulk store does); a single item's does not.</summary>
    private static void ThrowFor(List<(string Key, Exception Error)> failures, int total, string code, Func<Exception, DaprApiException> otherwise, string context)
    {
        if (failures.Count == 0)
        {
            return;
        }
        var first = failures[0].Error;
        if (first is DaprApiException api)
        {
            throw api;
        }
        var message = total == 1
            ? first.Message
            : string.Join("; ", failures.Select(f => $"{f.Key}: {f.Error.Message}"));
        if (failures.Any(f => f.Error is ETagMismatchException))
        {
            throw DaprErrors.ETagMismatch(code, $"{context}: {message}");
        }
        if (failures.Any(f => f.Error is ETagInvalidException))
        {
            throw DaprErrors.ETagInvalid(code, $"{context}: {message}");
        }
        throw otherwise(failures.Count == 1 ? first : new AggregateException(message, failures.Select(f => f.Error)));
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
