namespace DaprShop.Sidecar.Components.State;

public enum Concurrency { LastWrite, FirstWrite }

/// <summary>A stored value with its ETag and, when it has a TTL, the moment it expires.</summary>
public sealed record StateEntry(byte[] Value, string ETag, DateTimeOffset? ExpiresAt);

/// <summary>A write or a delete, alone or inside a transaction. Keys arrive already prefixed by the runtime.</summary>
public abstract record StateOperation(string Key, string? ETag, Concurrency Concurrency);

/// <summary>An upsert. <see cref="Ttl"/> null means the value never expires (and clears an earlier TTL).</summary>
public sealed record SetOperation(string Key, byte[] Value, string? ETag, Concurrency Concurrency, TimeSpan? Ttl)
    : StateOperation(Key, ETag, Concurrency);

public sealed record DeleteOperation(string Key, string? ETag, Concurrency Concurrency)
    : StateOperation(Key, ETag, Concurrency);

/// <summary>The store holds another ETag than the request named (or first-write found the key present): 409 / Aborted.</summary>
public sealed class ETagMismatchException(string key) : Exception("possible etag mismatch. error from state store: etag mismatch")
{
    public string Key { get; } = key;
}

/// <summary>The ETag is not in the store's format: 400 / InvalidArgument.</summary>
public sealed class ETagInvalidException(string etag) : Exception($"invalid etag value: {etag}");

/// <summary>
/// The narrow contract of a state store component. The runtime does key prefixes, TTL metadata, resiliency and
/// error mapping; a store only keeps values, ETags and expiry, with first-write/last-write semantics:
/// an ETag given must match; first-write without an ETag only creates; last-write without one overwrites.
/// </summary>
public interface IStateStore : IComponent
{
    bool SupportsTransactions { get; }

    Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>Writes and returns the new ETag.</summary>
    Task<string> SetAsync(SetOperation operation, CancellationToken cancellationToken);

    Task DeleteAsync(DeleteOperation operation, CancellationToken cancellationToken);

    /// <summary>Applies the operations in order, all or none.</summary>
    Task TransactAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken);
}

/// <summary>A store that lists the live values under a key prefix: the state outbox finds its pending records this way.</summary>
public interface IKeyScanStateStore : IStateStore
{
    Task<IReadOnlyList<StateQueryItem>> ListAsync(string keyPrefix, int limit, CancellationToken cancellationToken);
}

/// <summary>A store that answers Dapr's state query API (filter/sort/page over JSON values).</summary>
public interface IQueryableStateStore : IStateStore
{
    Task<StateQueryResult> QueryAsync(StateQuery query, string keyPrefix, CancellationToken cancellationToken);
}

public sealed record StateQueryResult(IReadOnlyList<StateQueryItem> Items, string? Token);

public sealed record StateQueryItem(string Key, byte[] Value, string ETag);
