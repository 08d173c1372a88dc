using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Dapr.Client.Autogen.Grpc.v1;
using DaprShop.Sidecar.Mesh;
using DaprShop.Sidecar.Resources;
using EventStatus = Dapr.AppCallback.Autogen.Grpc.v1.TopicEventResponse.Types.TopicEventResponseStatus;
using TopicEventRequest = Dapr.AppCallback.Autogen.Grpc.v1.TopicEventRequest;

namespace DaprShop.Sidecar.Runtime;

/// <summary>
/// One app connection of a streaming subscription (gRPC <c>SubscribeTopicEventsAlpha1</c>): events go out on the
/// stream one message each, and each waits for the app's <c>event_processed</c> answer carrying its id.
/// </summary>
public sealed class TopicStream(Func<TopicEventRequest, CancellationToken, Task> send, CancellationToken closed)
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<EventStatus>> _awaiting = new(StringComparer.Ordinal);

    internal async Task<EventStatus> DeliverAsync(TopicEventRequest message, CancellationToken ct)
    {
        if (closed.IsCancellationRequested)
        {
            throw new StreamClosedException(); // the stream's writer may be gone with it
        }
        var answer = new TaskCompletionSource<EventStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_awaiting.TryAdd(message.Id, answer))
        {
            // Answers are matched by CloudEvent id: a second event with the id of one in flight waits for a retry.
            throw new InvalidOperationException($"an event with id {message.Id} is already awaiting the app's answer on this stream");
        }
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, closed);
            await send(message, linked.Token);
            return await answer.Task.WaitAsync(linked.Token);
        }
        catch (OperationCanceledException) when (closed.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new StreamClosedException();
        }
        finally
        {
            _awaiting.TryRemove(KeyValuePair.Create(message.Id, answer));
        }
    }

    /// <summary>The app's answer for one event; false when no event with that id is awaiting one.</summary>
    public bool Processed(string id, EventStatus status) => _awaiting.TryGetValue(id, out var answer) && answer.TrySetResult(status);
}

/// <summary>The app ended the stream before answering: retrying on it cannot help.</summary>
public sealed class StreamClosedException() : InvalidOperationException("the subscription stream closed before the app answered");

public sealed partial class Subscriptions
{
    private readonly List<ActiveSubscription> _streams = [];
    private readonly Lock _streamsGate = new();

    /// <summary>
    /// Opens a streaming subscription, as daprd's <c>SubscribeTopicEventsAlpha1</c> does: a subscription of its own
    /// to the broker for this connection (several connections to one topic each get one, as in daprd 1.18), routed
    /// to <c>/</c>, with the same delivery rules as the app's subscriptions — expiry, dead-letter topic, inbound
    /// resiliency, SUCCESS/RETRY/DROP — and listed by the metadata API as <c>STREAMING</c> until the returned handle
    /// is disposed.
    /// </summary>
    public async Task<IAsyncDisposable> OpenStreamAsync(SubscribeTopicEventsRequestInitialAlpha1 request, TopicStream stream, CancellationToken ct)
    {
        var metadata = new Dictionary<string, string>(request.Metadata);
        if (!components.PubSubs.TryGetValue(request.PubsubName, out var pubsub))
        {
            throw DaprErrors.PubSubNotFound(request.PubsubName, metadata);
        }
        if (!components.TopicScopesOf(request.PubsubName).CanSubscribe(request.Topic))
        {
            throw DaprErrors.PubSubForbidden(request.PubsubName, request.Topic, mesh.Self.AppId);
        }
        var definition = new SubscriptionDefinition(request.PubsubName, request.Topic, [], "/", NullIfEmpty(request.DeadLetterTopic), metadata, null, "STREAMING");
        var active = new ActiveSubscription(definition, []) { Stream = stream };
        var deliveries = new Deliveries();
        var handle = await pubsub.SubscribeAsync(request.Topic, metadata, (m, c) => deliveries.RunAsync(() => HandleAsync(active, m, c)), ct);
        lock (_streamsGate)
        {
            _streams.Add(active);
            PublishSubscriptionsToMesh();
        }
        logger.LogInformation("Streaming subscription to topic {Topic} on {PubSub} opened", request.Topic, request.PubsubName);
        return new StreamHandle(this, active, handle, deliveries);
    }

    private void PublishSubscriptionsToMesh() =>
        mesh.UpdateSubscriptions(Active.Select(a => MeshInstance.SubscriptionKey(a.Definition.PubSubName, a.Definition.Topic)));

    private async Task<Outcome> DeliverToStreamAsync(TopicStream stream, SubscriptionDefinition definition, JsonObject ce, CancellationToken ct)
    {
        using var activity = Tracing.SidecarTelemetry.StartConsumer(definition.Topic, ce["traceparent"]?.GetValue<string>(), ce["tracestate"]?.GetValue<string>());
        var message = GrpcAppChannel.ToTopicEvent(ce, "/");
        message.Topic = definition.Topic; // as daprd: where the message came from, not what its CloudEvent says
        message.PubsubName = definition.PubSubName;
        return await stream.DeliverAsync(message, ct) switch
        {
            EventStatus.Success => Outcome.Success,
            EventStatus.Drop => Outcome.Drop,
            _ => Outcome.Retry, // RETRY, and a status daprd does not know
        };
    }

    private async Task CloseStreamAsync(ActiveSubscription active, IAsyncDisposable brokerSubscription, Deliveries deliveries)
    {
        // Events the app left unanswered fail at once (the stream is closed): each goes to the dead-letter topic, or
        // back to the broker, before the broker subscription is torn down — not lost with it.
        try
        {
            await deliveries.IdleAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            logger.LogWarning("Deliveries of a closed stream on {Topic} still running after 10 s", active.Definition.Topic);
        }
        await brokerSubscription.DisposeAsync();
        lock (_streamsGate)
        {
            _streams.Remove(active);
            PublishSubscriptionsToMesh();
        }
        logger.LogInformation("Streaming subscription to topic {Topic} on {PubSub} closed", active.Definition.Topic, active.Definition.PubSubName);
    }

    /// <summary>The deliveries of one stream under way, so that closing it lets each end its failure path first.</summary>
    private sealed class Deliveries
    {
        private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _running;
        private volatile bool _closing;

        public async Task RunAsync(Func<Task> delivery)
        {
            Interlocked.Increment(ref _running);
            try
            {
                await delivery();
            }
            finally
            {
                if (Interlocked.Decrement(ref _running) == 0 && _closing)
                {
                    _idle.TrySetResult();
                }
            }
        }

        public Task IdleAsync()
        {
            _closing = true;
            if (Volatile.Read(ref _running) == 0)
            {
                _idle.TrySetResult();
            }
            return _idle.Task;
        }
    }

    private sealed class StreamHandle(Subscriptions owner, ActiveSubscription active, IAsyncDisposable brokerSubscription, Deliveries deliveries) : IAsyncDisposable
    {
        private int _disposed;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1)
            {
                return;
            }
            await owner.CloseStreamAsync(active, brokerSubscription, deliveries);
        }
    }
}
