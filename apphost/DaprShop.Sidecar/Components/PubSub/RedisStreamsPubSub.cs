using System.Collections.Concurrent;
using System.Text.Json;
using DaprShop.Sidecar.Components.Redis;
using StackExchange.Redis;

namespace DaprShop.Sidecar.Components.PubSub;

/// <summary>
/// <c>pubsub.redis</c> v1 on Redis Streams, as daprd's: a topic is a stream, each entry carries the message in its
/// <c>data</c> field (and the publish metadata as JSON in <c>metadata</c>); each app id reads through a consumer group
/// named by <c>consumerID</c> (default: the app id), so every app gets every message and its replicas share them.
/// A message is acknowledged (XACK) only after the app took it; one that failed stays pending and is claimed again
/// once it has been idle for <c>processingTimeout</c> (default 15s), looked for every <c>redeliverInterval</c>
/// (default 60s). Messages are on the Redis server, so a subscriber's sidecar that stops or crashes gets them when it
/// is back: nothing accepted by a publish is lost with a sidecar.
/// </summary>
public sealed class RedisStreamsPubSub : IPubSub
{
    private static readonly TimeSpan Block = TimeSpan.FromSeconds(1);
    private readonly ComponentContext _context;
    private readonly ConfigurationOptions _options;
    private readonly string _consumerId;
    private readonly TimeSpan _redeliverInterval;
    private readonly TimeSpan _processingTimeout;
    private readonly int _queueDepth;
    private readonly int _concurrency;
    private readonly long _maxLenApprox;
    private readonly TimeSpan _streamTtl;
    private ConnectionMultiplexer? _redis;

    public RedisStreamsPubSub(ComponentContext context)
    {
        _context = context;
        _options = RedisSettings.Read(context);
        // Blocking reads run on connections of their own, which must wait longer than a block.
        _options.SyncTimeout = _options.AsyncTimeout = Math.Max(_options.AsyncTimeout, (int)(Block * 3).TotalMilliseconds);
        _consumerId = context.String("consumerID", context.Options.AppId);
        _redeliverInterval = context.Duration("redeliverInterval", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(1));
        _processingTimeout = context.Duration("processingTimeout", TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(1));
        _queueDepth = Positive("queueDepth", 100);
        _concurrency = Positive("concurrency", 10);
        _maxLenApprox = context.Int("maxLenApprox", 0);
        if (_maxLenApprox < 0)
        {
            throw context.Error("maxLenApprox", "must be 0 (no limit) or more");
        }
        _streamTtl = context.Duration("streamTTL", TimeSpan.Zero);
    }

    public IReadOnlyList<string> Capabilities { get; } = [];

    private IDatabase Db => (_redis ?? throw new InvalidOperationException("the pub/sub is not initialised")).GetDatabase();

    public async Task InitAsync(CancellationToken cancellationToken) => _redis = await RedisSettings.ConnectAsync(_context, _options);

    public async Task PublishAsync(PubSubMessage message, CancellationToken cancellationToken)
    {
        List<object> args = [message.Topic];
        if (_maxLenApprox > 0)
        {
            args.AddRange(["MAXLEN", "~", _maxLenApprox]);
        }
        else if (_streamTtl > TimeSpan.Zero)
        {
            // Entries older than the TTL go; stream ids begin with their creation time in milliseconds.
            args.AddRange(["MINID", "~", (DateTimeOffset.UtcNow - _streamTtl).ToUnixTimeMilliseconds()]);
        }
        args.AddRange(["*", "data", message.Data]);
        if (message.Metadata.Count > 0)
        {
            args.AddRange(["metadata", JsonSerializer.SerializeToUtf8Bytes(message.Metadata)]);
        }
        await Db.ExecuteAsync("XADD", args);
    }

    public async Task<IAsyncDisposable> SubscribeAsync(string topic, IReadOnlyDictionary<string, string> metadata, MessageHandler handler, CancellationToken cancellationToken)
    {
        try
        {
            // From the stream's beginning, as daprd: a new group also gets what was published before it existed.
            await Db.StreamCreateConsumerGroupAsync(topic, _consumerId, StreamPosition.Beginning, createStream: true);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
            // the group is there already: another replica or an earlier run made it
        }
        // A blocking read holds its connection: each subscription reads on one of its own.
        var reader = await ConnectionMultiplexer.ConnectAsync(_options);
        var subscription = new Subscription(this, topic, handler, reader);
        subscription.Start();
        return subscription;
    }

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    private int Positive(string name, int fallback)
    {
        var n = _context.Int(name, fallback);
        return n > 0 ? n : throw _context.Error(name, "must be at least 1");
    }

    private sealed class Subscription(RedisStreamsPubSub owner, string topic, MessageHandler handler, ConnectionMultiplexer reader) : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly SemaphoreSlim _slots = new(owner._concurrency);
        private readonly ConcurrentDictionary<string, bool> _inFlight = new(StringComparer.Ordinal);
        // Entries acknowledged lately: a claim that raced with their XACK must not hand them to the app again.
        private readonly ConcurrentDictionary<string, DateTime> _acknowledged = new(StringComparer.Ordinal);
        private Task _read = Task.CompletedTask;
        private Task _reclaim = Task.CompletedTask;
        private bool _reclaims;

        public void Start()
        {
            _read = Task.Run(ReadNewAsync);
            if (owner._redeliverInterval > TimeSpan.Zero && owner._processingTimeout > TimeSpan.Zero)
            {
                _reclaims = true;
                _reclaim = Task.Run(ReclaimAsync);
            }
        }

        private async Task ReadNewAsync()
        {
            var db = reader.GetDatabase();
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    var reply = await db.ExecuteAsync("XREADGROUP", "GROUP", owner._consumerId, owner._consumerId,
                        "COUNT", owner._queueDepth, "BLOCK", (long)Block.TotalMilliseconds, "STREAMS", topic, ">");
                    if (reply.IsNull)
                    {
                        continue;
                    }
                    // [[stream, [[id, [field, value, ...]], ...]]]
                    foreach (var entry in (RedisResult[])((RedisResult[])((RedisResult[])reply!)[0]!)[1]!)
                    {
                        await DispatchAsync(entry);
                    }
                }
                catch (Exception ex) when (!_stop.IsCancellationRequested)
                {
                    if (ex is RedisServerException { Message: var m } && m.StartsWith("NOGROUP", StringComparison.Ordinal))
                    {
                        // The stream was deleted under us: make it and the group again.
                        await RecreateGroupAsync();
                        continue;
                    }
                    owner._context.Logger.LogWarning("Reading topic {Topic} from Redis failed, trying again: {Error}", topic, ex.Message);
                    await PauseAsync(TimeSpan.FromSeconds(1));
                }
                catch (Exception) when (_stop.IsCancellationRequested)
                {
                    return;
                }
            }
        }

        // Pending entries idle for longer than the processing timeout: their handler failed, or their sidecar died.
        private async Task ReclaimAsync()
        {
            var db = owner.Db;
            while (!_stop.IsCancellationRequested)
            {
                await PauseAsync(owner._redeliverInterval);
                var forget = DateTime.UtcNow - owner._processingTimeout;
                foreach (var (id, at) in _acknowledged)
                {
                    if (at < forget)
                    {
                        _acknowledged.TryRemove(id, out _);
                    }
                }
                try
                {
                    var start = "0-0";
                    do
                    {
                        var reply = (RedisResult[])(await db.ExecuteAsync("XAUTOCLAIM", topic, owner._consumerId, owner._consumerId,
                            (long)owner._processingTimeout.TotalMilliseconds, start, "COUNT", owner._queueDepth))!;
                        start = (string)reply[0]!;
                        foreach (var entry in (RedisResult[])reply[1]!)
                        {
                            if (!entry.IsNull)
                            {
                                await DispatchAsync(entry);
                            }
                        }
                    }
                    while (start != "0-0" && !_stop.IsCancellationRequested);
                }
                catch (Exception ex) when (!_stop.IsCancellationRequested)
                {
                    owner._context.Logger.LogWarning("Looking for unacknowledged messages on {Topic} failed: {Error}", topic, ex.Message);
                }
                catch (Exception) when (_stop.IsCancellationRequested)
                {
                    return;
                }
            }
        }

        private async Task DispatchAsync(RedisResult entry)
        {
            var parts = (RedisResult[])entry!;
            var id = (string)parts[0]!;
            if (_acknowledged.ContainsKey(id) || !_inFlight.TryAdd(id, true))
            {
                return; // still being handled here (a slow handler, not a lost message), or just acknowledged
            }
            await _slots.WaitAsync(_stop.Token);
            _ = Task.Run(async () =>
            {
                try
                {
                    await DeliverAsync(id, (RedisResult[])parts[1]!);
                }
                finally
                {
                    _inFlight.TryRemove(id, out _);
                    _slots.Release();
                }
            });
        }

        private async Task DeliverAsync(string id, RedisResult[] fields)
        {
            byte[] data = [];
            IReadOnlyDictionary<string, string> metadata = new Dictionary<string, string>();
            for (var i = 0; i + 1 < fields.Length; i += 2)
            {
                switch ((string)fields[i]!)
                {
                    case "data":
                        data = (byte[])fields[i + 1]!;
                        break;
                    case "metadata":
                        metadata = ReadMetadata((byte[])fields[i + 1]!);
                        break;
                }
            }
            try
            {
                await handler(new PubSubMessage(topic, data, "application/octet-stream", metadata), _stop.Token);
            }
            catch (Exception ex) when (!_stop.IsCancellationRequested)
            {
                owner._context.Logger.LogWarning("Message {Id} on {Topic} stays pending, to be delivered again after {Timeout}: {Error}",
                    id, topic, owner._processingTimeout, ex.Message);
                return;
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            try
            {
                if (_reclaims)
                {
                    _acknowledged[id] = DateTime.UtcNow; // forgotten by the claim loop after a processing timeout
                }
                await owner.Db.StreamAcknowledgeAsync(topic, owner._consumerId, id);
            }
            catch (RedisException ex)
            {
                // Not acknowledged: delivered again later; subscribers are idempotent by CloudEvent id.
                _acknowledged.TryRemove(id, out _);
                owner._context.Logger.LogWarning("Acknowledging message {Id} on {Topic} failed: {Error}", id, topic, ex.Message);
            }
        }

        private Dictionary<string, string> ReadMetadata(byte[] json)
        {
            try
            {
                return JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [];
            }
            catch (JsonException ex)
            {
                owner._context.Logger.LogWarning("Ignoring unreadable metadata of a message on {Topic}: {Error}", topic, ex.Message);
                return [];
            }
        }

        private async Task RecreateGroupAsync()
        {
            try
            {
                await owner.Db.StreamCreateConsumerGroupAsync(topic, owner._consumerId, StreamPosition.Beginning, createStream: true);
            }
            catch (RedisServerException ex) when (ex.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
            {
            }
        }

        private async Task PauseAsync(TimeSpan delay)
        {
            try
            {
                await Task.Delay(delay, _stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_read, _reclaim);
            await reader.DisposeAsync();
            _stop.Dispose();
        }
    }
}
