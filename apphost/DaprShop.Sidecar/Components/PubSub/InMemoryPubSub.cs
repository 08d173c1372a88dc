using System.Collections.Concurrent;
using System.Threading.Channels;
using DaprShop.Sidecar.Mesh;

namespace DaprShop.Sidecar.Components.PubSub;

/// <summary>
/// <c>pubsub.in-memory</c>: a broker inside the sidecar. Messages live in memory only (lost on restart, as in daprd).
/// Two DaprShop additions, both documented: a message whose handler failed is redelivered after
/// <c>redeliverInterval</c> (default 1s) up to <c>maxRedeliveries</c> times (default -1: for ever), and messages reach
/// the subscribers of other apps in the local mesh through <see cref="MeshBroker"/>.
/// </summary>
public sealed class InMemoryPubSub : IPubSub
{
    private readonly ConcurrentDictionary<string, ImmutableSubscribers> _topics = new(StringComparer.Ordinal);
    private readonly MeshBroker _mesh;
    private readonly ComponentContext _context;
    private readonly TimeSpan _redeliverInterval;
    private readonly int _maxRedeliveries;
    private readonly int _concurrency;
    private readonly CancellationTokenSource _stopping = new();

    public InMemoryPubSub(ComponentContext context, MeshBroker mesh)
    {
        _context = context;
        _mesh = mesh;
        _redeliverInterval = context.Duration("redeliverInterval", TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(1));
        _maxRedeliveries = context.Int("maxRedeliveries", -1);
        _concurrency = context.Int("concurrency", 64);
        if (_concurrency < 1)
        {
            throw context.Error("concurrency", "must be at least 1");
        }
    }

    public IReadOnlyList<string> Capabilities { get; } = ["BULK_PUBLISH"];

    public Task InitAsync(CancellationToken cancellationToken)
    {
        _mesh.Attach(_context.Name, this);
        return Task.CompletedTask;
    }

    public async Task PublishAsync(PubSubMessage message, CancellationToken cancellationToken)
    {
        DeliverLocally(message);
        await _mesh.ForwardAsync(_context.Name, message, cancellationToken);
    }

    public void DeliverLocally(PubSubMessage message)
    {
        if (_topics.TryGetValue(message.Topic, out var subscribers))
        {
            foreach (var s in subscribers.Items)
            {
                s.Queue.Writer.TryWrite(new Delivery(message, 0));
            }
        }
    }

    public Task<IAsyncDisposable> SubscribeAsync(string topic, IReadOnlyDictionary<string, string> metadata, MessageHandler handler, CancellationToken cancellationToken)
    {
        var subscriber = new Subscriber(this, topic, handler);
        _topics.AddOrUpdate(topic, _ => new ImmutableSubscribers([subscriber]), (_, s) => new ImmutableSubscribers([.. s.Items, subscriber]));
        subscriber.Start();
        return Task.FromResult<IAsyncDisposable>(subscriber);
    }

    private void Remove(Subscriber subscriber) =>
        _topics.AddOrUpdate(subscriber.Topic, _ => new ImmutableSubscribers([]), (_, s) => new ImmutableSubscribers(s.Items.Where(x => x != subscriber).ToArray()));

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _stopping.Dispose();
    }

    private sealed record ImmutableSubscribers(Subscriber[] Items);

    private sealed record Delivery(PubSubMessage Message, int Attempt);

    private sealed class Subscriber(InMemoryPubSub owner, string topic, MessageHandler handler) : IAsyncDisposable
    {
        private readonly CancellationTokenSource _cts = CancellationTokenSource.CreateLinkedTokenSource(owner._stopping.Token);
        private Task _pump = Task.CompletedTask;

        public string Topic { get; } = topic;
        public Channel<Delivery> Queue { get; } = Channel.CreateUnbounded<Delivery>();

        public void Start() => _pump = Task.Run(PumpAsync);

        private async Task PumpAsync()
        {
            using var slots = new SemaphoreSlim(owner._concurrency);
            try
            {
                await foreach (var delivery in Queue.Reader.ReadAllAsync(_cts.Token))
                {
                    await slots.WaitAsync(_cts.Token);
                    _ = Task.Run(async () =>
                    {
                        try
                        {
                            await DeliverAsync(delivery);
                        }
                        finally
                        {
                            slots.Release();
                        }
                    });
                }
            }
            catch (OperationCanceledException)
            {
                // stopping
            }
        }

        private async Task DeliverAsync(Delivery delivery)
        {
            try
            {
                await handler(delivery.Message, _cts.Token);
            }
            catch (OperationCanceledException) when (_cts.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                if (owner._maxRedeliveries >= 0 && delivery.Attempt >= owner._maxRedeliveries)
                {
                    owner._context.Logger.LogError("Dropping a message on {Topic} after {Attempts} deliveries: {Error}", Topic, delivery.Attempt + 1, ex.Message);
                    return;
                }
                owner._context.Logger.LogWarning("Delivery on {Topic} failed, redelivering in {Interval}: {Error}", Topic, owner._redeliverInterval, ex.Message);
                try
                {
                    await Task.Delay(owner._redeliverInterval, _cts.Token);
                    Queue.Writer.TryWrite(delivery with { Attempt = delivery.Attempt + 1 });
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            owner.Remove(this);
            Queue.Writer.TryComplete();
            await _cts.CancelAsync();
            await _pump;
            _cts.Dispose();
        }
    }
}
