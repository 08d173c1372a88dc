using DaprShop.Sidecar.Components.Redis;
using StackExchange.Redis;

namespace DaprShop.Sidecar.Components.Locks;

/// <summary>
/// <c>lock.redis</c> v1 as daprd's: a lock is a Redis string holding its owner, taken with <c>SET NX PX</c> so it frees
/// itself after its expiry; an unlock is one script that deletes the key only for its owner.
/// </summary>
public sealed class RedisLockStore(ComponentContext context) : ILockStore
{
    private const string UnlockScript = """
        local owner = redis.call('GET', KEYS[1])
        if not owner then return 1 end
        if owner ~= ARGV[1] then return 2 end
        redis.call('DEL', KEYS[1])
        return 0
        """;

    private readonly ConfigurationOptions _options = RedisSettings.Read(context);
    private ConnectionMultiplexer? _redis;

    public IReadOnlyList<string> Capabilities { get; } = [];

    private IDatabase Db => (_redis ?? throw new InvalidOperationException("the lock store is not initialised")).GetDatabase();

    public async Task InitAsync(CancellationToken cancellationToken) => _redis = await RedisSettings.ConnectAsync(context, _options);

    public Task<bool> TryLockAsync(string key, string owner, TimeSpan expiry, CancellationToken cancellationToken) =>
        Db.StringSetAsync(key, owner, expiry, When.NotExists);

    public async Task<UnlockStatus> UnlockAsync(string key, string owner, CancellationToken cancellationToken) =>
        (UnlockStatus)(int)await Db.ScriptEvaluateAsync(UnlockScript, [key], [owner]);

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }
}
