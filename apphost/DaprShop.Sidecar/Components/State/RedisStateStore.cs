using System.Globalization;
using DaprShop.Sidecar.Components.Redis;
using StackExchange.Redis;

namespace DaprShop.Sidecar.Components.State;

/// <summary>
/// <c>state.redis</c> v1 with daprd's layout, so one Redis serves either sidecar: each key is a hash whose
/// <c>data</c> field holds the value's bytes and whose <c>version</c> field (1, 2, 3...) is the ETag; a TTL is the key's
/// own expiry. Every write is one Lua script, so its ETag check and its write cannot be split by another client; a
/// transaction checks every operation before it applies any, which makes it all-or-nothing (daprd's queues its
/// operations in a MULTI block, where a failed check does not undo the others, and warns that Redis has no
/// rollback — docs/sidecar.md).
/// </summary>
public sealed class RedisStateStore(ComponentContext context) : IKeyScanStateStore
{
    // ARGV per operation: kind (s|d), etag ('' = none), first-write (1|0), data, ttl in ms ('' = none).
    // Checks run first, against the state each operation will meet; a failed one answers "ETAG_MISMATCH <n>".
    private const string TransactScript = """
        local n = #KEYS
        local seen = {}
        for i = 1, n do
          local k = KEYS[i]
          local v = seen[k]
          if v == nil then
            v = redis.pcall('HGET', k, 'version')
            if type(v) == 'table' then v = false end
          end
          local a = (i - 1) * 5
          local etag, fw = ARGV[a + 2], ARGV[a + 3]
          if etag ~= '' then
            if v ~= etag then return redis.error_reply('ETAG_MISMATCH ' .. i) end
          elseif ARGV[a + 1] == 's' and fw == '1' and v then
            return redis.error_reply('ETAG_MISMATCH ' .. i)
          end
          if ARGV[a + 1] == 's' then seen[k] = 'pending' else seen[k] = false end
        end
        local last = 0
        for i = 1, n do
          local k = KEYS[i]
          local a = (i - 1) * 5
          if ARGV[a + 1] == 's' then
            if redis.call('TYPE', k).ok ~= 'hash' then redis.call('DEL', k) end
            redis.call('HSET', k, 'data', ARGV[a + 4])
            last = redis.call('HINCRBY', k, 'version', 1)
            if ARGV[a + 5] ~= '' then redis.call('PEXPIRE', k, ARGV[a + 5]) else redis.call('PERSIST', k) end
          else
            redis.call('DEL', k)
          end
        end
        return last
        """;

    // The value, its version and the milliseconds it has left (-1: no expiry), read at one moment.
    private const string GetScript = """
        local r = redis.pcall('HMGET', KEYS[1], 'data', 'version')
        if r.err or not r[1] then return false end
        return {r[1], r[2] or '0', redis.call('PTTL', KEYS[1])}
        """;

    private readonly ConfigurationOptions _options = ReadOptions(context);
    private ConnectionMultiplexer? _redis;

    private static ConfigurationOptions ReadOptions(ComponentContext context)
    {
        // A store-wide default TTL cannot be told apart from a save's explicit "no TTL" behind IStateStore: refused
        // rather than ignored (docs/sidecar.md).
        if (context.Get("ttlInSeconds") is not null)
        {
            throw context.Error("ttlInSeconds", "(a store-wide default TTL) is not supported by this sidecar: give each save its ttlInSeconds");
        }
        return RedisSettings.Read(context);
    }

    public IReadOnlyList<string> Capabilities { get; } = ["ETAG", "TRANSACTIONAL", "TTL"];

    public bool SupportsTransactions => true;

    private IDatabase Db => (_redis ?? throw new InvalidOperationException("the store is not initialised")).GetDatabase();

    public async Task InitAsync(CancellationToken cancellationToken) => _redis = await RedisSettings.ConnectAsync(context, _options);

    public async Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var result = await Db.ScriptEvaluateAsync(GetScript, [key]);
        if (result.IsNull || result.Resp2Type != ResultType.Array)
        {
            return null;
        }
        var parts = (RedisResult[])result!;
        var pttl = (long)parts[2];
        DateTimeOffset? expires = pttl >= 0 ? DateTimeOffset.UtcNow.AddMilliseconds(pttl) : null;
        return new StateEntry((byte[])parts[0]!, (string)parts[1]!, expires);
    }

    public async Task<string> SetAsync(SetOperation operation, CancellationToken cancellationToken)
    {
        var version = await RunAsync([operation]);
        return version.ToString(CultureInfo.InvariantCulture);
    }

    public Task DeleteAsync(DeleteOperation operation, CancellationToken cancellationToken) => RunAsync([operation]);

    public Task TransactAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken) =>
        operations.Count == 0 ? Task.CompletedTask : RunAsync(operations);

    public async Task<IReadOnlyList<StateQueryItem>> ListAsync(string keyPrefix, int limit, CancellationToken cancellationToken)
    {
        var server = _redis!.GetServers()[0];
        var keys = new List<string>();
        await foreach (var key in server.KeysAsync(_options.DefaultDatabase ?? 0, Glob(keyPrefix) + "*", pageSize: 500))
        {
            keys.Add(key!);
        }
        keys.Sort(StringComparer.Ordinal);
        var items = new List<StateQueryItem>();
        foreach (var key in keys)
        {
            if (items.Count == limit)
            {
                break;
            }
            if (await GetAsync(key, cancellationToken) is { } entry)
            {
                items.Add(new StateQueryItem(key, entry.Value, entry.ETag));
            }
        }
        return items;
    }

    private async Task<long> RunAsync(IReadOnlyList<StateOperation> operations)
    {
        var keys = new RedisKey[operations.Count];
        var args = new RedisValue[operations.Count * 5];
        for (var i = 0; i < operations.Count; i++)
        {
            var op = operations[i];
            if (!string.IsNullOrEmpty(op.ETag) && !long.TryParse(op.ETag, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                throw new ETagInvalidException(op.ETag); // daprd's Redis store parses ETags as integers
            }
            keys[i] = op.Key;
            var set = op as SetOperation;
            args[i * 5] = set is null ? "d" : "s";
            args[i * 5 + 1] = op.ETag ?? "";
            args[i * 5 + 2] = op.Concurrency == Concurrency.FirstWrite ? "1" : "0";
            args[i * 5 + 3] = set?.Value ?? [];
            args[i * 5 + 4] = set?.Ttl is { } ttl ? Math.Max(1, (long)Math.Ceiling(ttl.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) : "";
        }
        try
        {
            return (long)await Db.ScriptEvaluateAsync(TransactScript, keys, args);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("ETAG_MISMATCH ", StringComparison.Ordinal))
        {
            var index = int.Parse(ex.Message.AsSpan("ETAG_MISMATCH ".Length), CultureInfo.InvariantCulture) - 1;
            throw new ETagMismatchException(operations[index].Key);
        }
    }

    // SCAN's MATCH is a glob: the prefix's own glob characters are escaped.
    private static string Glob(string prefix) =>
        string.Concat(prefix.Select(c => c is '*' or '?' or '[' or ']' or '\\' ? $"\\{c}" : c.ToString()));

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }
}
