namespace DaprShop.Sidecar.Components.State;

/// <summary>
/// <c>state.in-memory</c>: values in a dictionary, lost when the sidecar stops (as in daprd). One lock keeps
/// transactions atomic; the store is meant for tests and caches, not for durability.
/// </summary>
public sealed class InMemoryStateStore : IKeyScanStateStore
{
    private readonly Dictionary<string, StateEntry> _items = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private long _version;

    public InMemoryStateStore(ComponentContext context) : this(TimeProvider.System)
    {
        _ = context;
    }

    internal InMemoryStateStore(TimeProvider time) => _time = time;

    public IReadOnlyList<string> Capabilities { get; } = ["ETAG", "TRANSACTIONAL", "TTL"];

    public bool SupportsTransactions => true;

    public Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(Live(key));
        }
    }

    public Task<string> SetAsync(SetOperation operation, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(Apply(operation));
        }
    }

    public Task DeleteAsync(DeleteOperation operation, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            Apply(operation);
        }
        return Task.CompletedTask;
    }

    public Task TransactAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            // Check every precondition against the state as it will be when each operation runs, then apply.
            var snapshot = new Dictionary<string, StateEntry?>(StringComparer.Ordinal);
            foreach (var op in operations)
            {
                var current = snapshot.TryGetValue(op.Key, out var s) ? s : Live(op.Key);
                Check(op, current);
                snapshot[op.Key] = op is SetOperation ? new StateEntry([], "pending", null) : null;
            }
            foreach (var op in operations)
            {
                Apply(op, check: false);
            }
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<StateQueryItem>> ListAsync(string keyPrefix, int limit, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var keys = _items.Keys.Where(k => k.StartsWith(keyPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
            IReadOnlyList<StateQueryItem> items = keys
                .Select(k => (Key: k, Entry: Live(k)))
                .Where(e => e.Entry is not null)
                .Take(limit)
                .Select(e => new StateQueryItem(e.Key, e.Entry!.Value, e.Entry.ETag))
                .ToList();
            return Task.FromResult(items);
        }
    }

    private StateEntry? Live(string key)
    {
        if (!_items.TryGetValue(key, out var entry))
        {
            return null;
        }
        if (entry.ExpiresAt is { } at && at <= _time.GetUtcNow())
        {
            _items.Remove(key);
            return null;
        }
        return entry;
    }

    private static void Check(StateOperation op, StateEntry? current)
    {
        if (!string.IsNullOrEmpty(op.ETag))
        {
            // Like daprd's in-memory store, any ETag that is not the current one is a mismatch (none is "invalid").
            if (current is null || current.ETag != op.ETag)
            {
                throw new ETagMismatchException(op.Key);
            }
        }
        else if (op is SetOperation && op.Concurrency == Concurrency.FirstWrite && current is not null)
        {
            throw new ETagMismatchException(op.Key);
        }
    }

    private string Apply(StateOperation op, bool check = true)
    {
        var current = Live(op.Key);
        if (check)
        {
            Check(op, current);
        }
        switch (op)
        {
            case SetOperation set:
                var etag = (++_version).ToString(System.Globalization.CultureInfo.InvariantCulture);
                var expires = set.Ttl is { } ttl ? _time.GetUtcNow() + ttl : (DateTimeOffset?)null;
                _items[op.Key] = new StateEntry(set.Value, etag, expires);
                return etag;
            default:
                _items.Remove(op.Key);
                return "";
        }
    }
}
