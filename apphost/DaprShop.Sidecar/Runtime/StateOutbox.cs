using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using DaprShop.Sidecar.Components;
using DaprShop.Sidecar.Components.State;
using DaprShop.Sidecar.Hosting;

namespace DaprShop.Sidecar.Runtime;

/// <summary>A state store's outbox metadata, as Dapr names it.</summary>
public sealed record OutboxSettings(string PublishPubsub, string PublishTopic, string? CoordinationPubsub, bool DiscardWhenMissingState)
{
    /// <summary>Null when the store has no outbox; an error naming the field when half of it is configured.</summary>
    public static OutboxSettings? Read(ComponentContext context, IStateStore store)
    {
        var pubsub = context.Get("outboxPublishPubsub");
        var topic = context.Get("outboxPublishTopic");
        if (pubsub is null && topic is null)
        {
            return null;
        }
        if (pubsub is null)
        {
            throw context.Error("outboxPublishPubsub", "is required when outboxPublishTopic is set");
        }
        if (topic is null)
        {
            throw context.Error("outboxPublishTopic", "is required when outboxPublishPubsub is set");
        }
        if (!store.SupportsTransactions || store is not IKeyScanStateStore)
        {
            throw context.Error("outboxPublishPubsub", "is set on a store without transactions, which the outbox needs");
        }
        return new OutboxSettings(pubsub, topic, context.Get("outboxPubsub"), context.Bool("outboxDiscardWhenMissingState", false));
    }
}

/// <summary>
/// One event waiting in the store: written in the same transaction as the state it announces, deleted once published.
/// <see cref="Id"/> names the record; the CloudEvent id (in <see cref="Metadata"/>, the record's id unless the app chose
/// one) is the same on every attempt, so subscribers can drop redeliveries.
/// </summary>
public sealed record OutboxRecord(
    string Id, string StateKey, string Pubsub, string Topic, byte[] Data, string ContentType,
    Dictionary<string, string> Metadata, DateTimeOffset Time);

/// <summary>
/// Dapr's transactional outbox, made durable by the store itself: each upsert of a transaction on an outbox store
/// adds an <see cref="OutboxRecord"/> under a reserved key to the same transaction; after the commit the record is
/// published and deleted. Records that could not be published stay, and <see cref="StateOutboxRelay"/> retries them.
/// </summary>
public sealed class StateOutbox(PubSubApi pubsub, SidecarOptions options, TimeProvider time, ILogger<StateOutbox> logger)
{
    public const string ProjectionMetadata = "outbox.projection";
    private const string CloudEventMetadata = "outbox.cloudevent.";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // Records this process is publishing right now: the relay leaves them to the request that wrote them.
    private readonly ConcurrentDictionary<string, bool> _inFlight = new(StringComparer.Ordinal);

    /// <summary>
    /// The reserved keys: three <c>||</c>-separated parts, which no state key (app prefix + key without <c>||</c>)
    /// and no actor key (four parts) can be.
    /// </summary>
    public string RecordPrefix => $"__outbox||{options.AppId}||";

    public static bool IsProjection(TransactionInput op) =>
        op.Request.Metadata.TryGetValue(ProjectionMetadata, out var v) && string.Equals(v, "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// One record per upsert that is saved. A projection (an upsert marked <c>outbox.projection</c>) is not saved:
    /// it replaces the published payload of the saved upsert with the same key; the first projection of a key wins.
    /// </summary>
    public IReadOnlyList<OutboxRecord> Plan(OutboxSettings settings, IReadOnlyList<TransactionInput> saved, IReadOnlyList<TransactionInput> projections, Func<string, string> storeKey)
    {
        var projected = new Dictionary<string, StateItemInput>(StringComparer.Ordinal);
        foreach (var p in projections)
        {
            if (!saved.Any(s => s.Operation == "upsert" && s.Request.Key == p.Request.Key))
            {
                throw DaprErrors.MalformedRequest($"the outbox projection for key '{p.Request.Key}' has no upsert of the same key in the transaction");
            }
            projected.TryAdd(p.Request.Key, p.Request);
        }
        var traceparent = Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity ? activity.Id : null;
        var now = time.GetUtcNow();
        var records = new List<OutboxRecord>();
        foreach (var op in saved.Where(s => s.Operation == "upsert"))
        {
            var published = projected.GetValueOrDefault(op.Request.Key) ?? op.Request;
            var id = Guid.NewGuid().ToString();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal) { ["cloudevent.id"] = id };
            if (traceparent is not null)
            {
                metadata["cloudevent.traceparent"] = traceparent;
            }
            // The upsert's overrides, then the projection's: both may shape the event.
            foreach (var source in published == op.Request ? [op.Request] : new[] { op.Request, published })
            {
                foreach (var (key, value) in source.Metadata)
                {
                    if (key.StartsWith(CloudEventMetadata, StringComparison.OrdinalIgnoreCase) && key.Length > CloudEventMetadata.Length)
                    {
                        var field = key[CloudEventMetadata.Length..].ToLowerInvariant();
                        if (field is not ("data" or "data_base64" or "topic" or "pubsubname"))
                        {
                            metadata["cloudevent." + field] = value;
                        }
                    }
                }
            }
            var contentType = published.Metadata.TryGetValue("contentType", out var ct) && ct.Length > 0 ? ct
                : StoredValues.IsJson(published.Value) ? "application/json" : "application/octet-stream";
            // The record's key is always this sidecar's own id; an overridden CloudEvent id only travels in the event.
            records.Add(new OutboxRecord(id, storeKey(op.Request.Key), settings.PublishPubsub, settings.PublishTopic,
                published.Value, contentType, metadata, now));
        }
        foreach (var r in records)
        {
            _inFlight[r.Id] = true;
        }
        return records;
    }

    /// <summary>The write that keeps a record in the store; first-write, so a record is never silently replaced.</summary>
    public SetOperation RecordOperation(OutboxRecord record) =>
        new(RecordPrefix + record.Id, JsonSerializer.SerializeToUtf8Bytes(record, Json), null, Concurrency.FirstWrite, null);

    /// <summary>The transaction did not commit: its records do not exist.</summary>
    public void Abandon(IReadOnlyList<OutboxRecord> records)
    {
        foreach (var r in records)
        {
            _inFlight.TryRemove(r.Id, out _);
        }
    }

    /// <summary>Publishes committed records, in order, and deletes each one published. A failure leaves the rest for the relay.</summary>
    public async Task RelayAsync(StateStoreInfo store, IReadOnlyList<OutboxRecord> records, CancellationToken ct)
    {
        try
        {
            foreach (var record in records)
            {
                if (!await TryRelayAsync(store, record, ct))
                {
                    return;
                }
            }
        }
        finally
        {
            Abandon(records);
        }
    }

    /// <summary>Publishes what an earlier transaction left behind (a failed publish, a crash after the commit).</summary>
    public async Task<int> RelayPendingAsync(StateStoreInfo store, CancellationToken ct)
    {
        var scan = (IKeyScanStateStore)store.Store;
        var relayed = 0;
        foreach (var item in await scan.ListAsync(RecordPrefix, 100, ct))
        {
            OutboxRecord? record;
            try
            {
                record = JsonSerializer.Deserialize<OutboxRecord>(item.Value, Json);
            }
            catch (JsonException ex)
            {
                logger.LogError("Outbox record {Key} in state store {Store} is unreadable and stays: {Error}", item.Key, store.Name, ex.Message);
                continue;
            }
            if (record is null || !_inFlight.TryAdd(record.Id, true))
            {
                continue;
            }
            try
            {
                if (!await TryRelayAsync(store, record, ct))
                {
                    break; // the broker is failing: try again next round, in order
                }
                relayed++;
            }
            finally
            {
                _inFlight.TryRemove(record.Id, out _);
            }
        }
        return relayed;
    }

    private async Task<bool> TryRelayAsync(StateStoreInfo store, OutboxRecord record, CancellationToken ct)
    {
        try
        {
            if (store.Outbox is { DiscardWhenMissingState: true } && await store.Store.GetAsync(record.StateKey, ct) is null)
            {
                logger.LogWarning("Outbox event {Id} for state key {Key} is discarded: the state is gone (outboxDiscardWhenMissingState)", record.Id, record.StateKey);
            }
            else
            {
                var target = pubsub.Find(record.Pubsub, record.Topic);
                var message = pubsub.BuildMessage(record.Pubsub, record.Topic, record.Data, record.ContentType, record.Metadata, record.Time);
                await pubsub.SendAsync(record.Pubsub, target, message, ct);
            }
            // Published but not deleted (a crash here) means published again later: at least once, same CloudEvent id.
            await store.Store.DeleteAsync(new DeleteOperation(RecordPrefix + record.Id, null, Concurrency.LastWrite), ct);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning("Outbox event {Id} for state key {Key} is not published yet and will be retried: {Error}", record.Id, record.StateKey, ex.Message);
            return false;
        }
    }
}

/// <summary>
/// Retries the outbox records left in every outbox store: once the sidecar is ready (so the app's subscriptions
/// are known), then every <see cref="Interval"/>.
/// </summary>
public sealed class StateOutboxRelay(ComponentHost components, StateOutbox outbox, SidecarState state, ILogger<StateOutboxRelay> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var stores = components.StateStores.Values.Where(s => s.Outbox is not null).ToList();
        if (stores.Count == 0)
        {
            return;
        }
        try
        {
            while (!state.Ready)
            {
                await Task.Delay(100, stoppingToken);
            }
            while (!stoppingToken.IsCancellationRequested)
            {
                foreach (var store in stores)
                {
                    try
                    {
                        var relayed = await outbox.RelayPendingAsync(store, stoppingToken);
                        if (relayed > 0)
                        {
                            logger.LogInformation("Published {Count} pending outbox events of state store {Store}", relayed, store.Name);
                        }
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        logger.LogWarning("Reading the outbox of state store {Store} failed: {Error}", store.Name, ex.Message);
                    }
                }
                await Task.Delay(Interval, stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
