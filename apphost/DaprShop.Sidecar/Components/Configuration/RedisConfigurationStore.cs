using DaprShop.Sidecar.Components.Redis;
using StackExchange.Redis;

namespace DaprShop.Sidecar.Components.Configuration;

/// <summary>
/// <c>configuration.redis</c> v1 as daprd reads it: each item is a plain Redis string <c>value||version</c> (no
/// <c>||</c>: the whole string is the value, the version empty); a subscription listens to Redis keyspace
/// notifications (<c>__keyspace@{db}__:{key}</c>), which the server must publish — the store turns them on
/// (<c>notify-keyspace-events KA</c>) when they are off and the server allows it, and says so when it cannot.
/// </summary>
public sealed class RedisConfigurationStore(ComponentContext context) : IConfigurationStore
{
    private const string Separator = "||";
    private readonly ConfigurationOptions _options = WithAdmin(RedisSettings.Read(context));

    // Turning keyspace notifications on takes CONFIG, which StackExchange.Redis sends only in admin mode.
    private static ConfigurationOptions WithAdmin(ConfigurationOptions options)
    {
        options.AllowAdmin = true;
        return options;
    }
    private ConnectionMultiplexer? _redis;

    public IReadOnlyList<string> Capabilities { get; } = [];

    private int Database => _options.DefaultDatabase ?? 0;

    public async Task InitAsync(CancellationToken cancellationToken) => _redis = await RedisSettings.ConnectAsync(context, _options);

    public async Task<IReadOnlyDictionary<string, ConfigurationItem>> GetAsync(IReadOnlyList<string> keys, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        var db = _redis!.GetDatabase();
        var names = keys.Count > 0 ? keys : await AllKeysAsync();
        var values = await db.StringGetAsync([.. names.Select(k => (RedisKey)k)]);
        var items = new Dictionary<string, ConfigurationItem>(StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
        {
            if (values[i].HasValue)
            {
                items[names[i]] = Parse(values[i]!);
            }
        }
        return items;
    }

    public async Task<IAsyncDisposable> SubscribeAsync(IReadOnlyList<string> keys, IReadOnlyDictionary<string, string> metadata, ConfigurationChanged changed, CancellationToken cancellationToken)
    {
        await EnsureKeyspaceEventsAsync();
        var subscriber = _redis!.GetSubscriber();
        var prefix = $"__keyspace@{Database}__:";
        var channels = keys.Count > 0
            ? keys.Select(k => RedisChannel.Literal(prefix + k)).ToList()
            : [RedisChannel.Pattern(prefix + "*")];
        var stop = new CancellationTokenSource();
        // One change at a time, in order, as the notifications arrive.
        var queue = System.Threading.Channels.Channel.CreateUnbounded<string>();
        Action<RedisChannel, RedisValue> onEvent = (channel, _) => queue.Writer.TryWrite(channel.ToString()[prefix.Length..]);
        foreach (var channel in channels)
        {
            await subscriber.SubscribeAsync(channel, onEvent);
        }
        var pump = Task.Run(async () =>
        {
            try
            {
                await foreach (var key in queue.Reader.ReadAllAsync(stop.Token))
                {
                    var value = await _redis.GetDatabase().StringGetAsync(key);
                    var item = value.HasValue ? Parse(value!) : new ConfigurationItem("", "", new Dictionary<string, string>());
                    try
                    {
                        await changed(new Dictionary<string, ConfigurationItem> { [key] = item }, stop.Token);
                    }
                    catch (Exception ex) when (!stop.IsCancellationRequested)
                    {
                        context.Logger.LogWarning("A configuration update of {Key} was not delivered: {Error}", key, ex.Message);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        return new Subscription(async () =>
        {
            foreach (var channel in channels)
            {
                await subscriber.UnsubscribeAsync(channel, onEvent);
            }
            queue.Writer.TryComplete();
            await stop.CancelAsync();
            await pump;
            stop.Dispose();
        });
    }

    internal static ConfigurationItem Parse(string stored)
    {
        var at = stored.LastIndexOf(Separator, StringComparison.Ordinal);
        return at < 0
            ? new ConfigurationItem(stored, "", new Dictionary<string, string>())
            : new ConfigurationItem(stored[..at], stored[(at + Separator.Length)..], new Dictionary<string, string>());
    }

    private async Task<IReadOnlyList<string>> AllKeysAsync()
    {
        var keys = new List<string>();
        await foreach (var key in _redis!.GetServers()[0].KeysAsync(Database, "*", pageSize: 500))
        {
            keys.Add(key!);
        }
        return keys;
    }

    private async Task EnsureKeyspaceEventsAsync()
    {
        var db = _redis!.GetDatabase();
        try
        {
            var reply = await db.ExecuteAsync("CONFIG", "GET", "notify-keyspace-events");
            var current = reply.Resp2Type == ResultType.Array && (RedisResult[])reply! is { Length: 2 } pair ? (string?)pair[1] : null;
            if (current is null || !(current.Contains('K') && (current.Contains('A') || (current.Contains('$') && current.Contains('g')))))
            {
                await db.ExecuteAsync("CONFIG", "SET", "notify-keyspace-events", "KA");
            }
        }
        catch (RedisException ex)
        {
            context.Logger.LogWarning("Could not turn on Redis keyspace notifications ({Error}): subscriptions of {Name} see changes only if the server publishes them (notify-keyspace-events KA)", ex.Message, context.Name);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    private sealed class Subscription(Func<Task> stop) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await stop();
    }
}
