using DaprShop.Sidecar.Components.PubSub;
using DaprShop.Sidecar.Hosting;
using DaprShop.Sidecar.Resiliency;

namespace DaprShop.Sidecar.Runtime;

/// <summary>One entry of a bulk publish; <see cref="Metadata"/> is null when the entry carries none.</summary>
public sealed record BulkPublishEntry(string EntryId, byte[] Event, string? ContentType, IReadOnlyDictionary<string, string>? Metadata);

public sealed record BulkPublishFailure(string EntryId, string Error);

/// <summary>The publishing half of pub/sub, shared by both APIs: envelope, component lookup, resiliency.</summary>
public sealed class PubSubApi(ComponentHost components, SidecarOptions options, ResiliencyEngine resiliency, TimeProvider time, Tracing.SidecarMetrics metrics)
{
    private static readonly IReadOnlyDictionary<string, string> NoMetadata = new Dictionary<string, string>();

    /// <summary>The component for a publish to <paramref name="topic"/>; the request's metadata goes into the error's details, as in daprd.</summary>
    public IPubSub Find(string pubsubName, string topic, IReadOnlyDictionary<string, string>? metadata = null)
    {
        metadata ??= NoMetadata;
        if (string.IsNullOrEmpty(pubsubName))
        {
            throw DaprErrors.PubSubNameEmpty(metadata);
        }
        if (components.PubSubs.Count == 0)
        {
            throw DaprErrors.PubSubsNotConfigured(pubsubName, metadata);
        }
        if (!components.PubSubs.TryGetValue(pubsubName, out var pubsub))
        {
            throw DaprErrors.PubSubNotFound(pubsubName, metadata);
        }
        if (string.IsNullOrEmpty(topic))
        {
            throw DaprErrors.TopicEmpty(pubsubName, metadata);
        }
        return pubsub;
    }

    /// <summary>A bulk publish body that is not an array of entries (HTTP), reported as daprd reports it.</summary>
    public DaprApiException BodyError(string pubsubName, string topic, string problem) => DaprErrors.BulkPublishBody(topic, pubsubName, options.AppId, problem);

    /// <summary>A bulk publish entry that cannot be sent as given, reported as daprd reports it.</summary>
    public DaprApiException EntryError(string pubsubName, string topic, string problem) => DaprErrors.BulkPublishEntries(topic, pubsubName, options.AppId, problem);

    /// <summary><see cref="Find"/> for the app's own publishes, which the component's topic scoping may forbid.</summary>
    private IPubSub FindForApp(string pubsubName, string topic, IReadOnlyDictionary<string, string> metadata)
    {
        var pubsub = Find(pubsubName, topic, metadata);
        if (!components.TopicScopesOf(pubsubName).CanPublish(topic))
        {
            throw DaprErrors.PubSubForbidden(pubsubName, topic, options.AppId);
        }
        return pubsub;
    }

    public async Task PublishAsync(string pubsubName, string topic, byte[] data, string? contentType, IReadOnlyDictionary<string, string> metadata, CancellationToken ct)
    {
        var pubsub = FindForApp(pubsubName, topic, metadata);
        var message = BuildMessage(pubsubName, topic, data, contentType, metadata);
        await SendAsync(pubsubName, pubsub, message, ct);
    }

    /// <summary>Publishes each entry; the ones that failed come back with their errors (an empty list is full success).</summary>
    public async Task<IReadOnlyList<BulkPublishFailure>> BulkPublishAsync(string pubsubName, string topic, IReadOnlyList<BulkPublishEntry> entries, IReadOnlyDictionary<string, string> metadata, CancellationToken ct)
    {
        var pubsub = FindForApp(pubsubName, topic, metadata);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (string.IsNullOrEmpty(entry.EntryId) || !seen.Add(entry.EntryId))
            {
                throw EntryError(pubsubName, topic, "entryId is duplicated or not present for entry");
            }
        }
        // As daprd: the request's metadata fills in only entries that carry metadata of their own, and whether the
        // events are raw is the request's to say.
        var raw = IsRaw(pubsubName, metadata);
        var messages = entries.Select(e =>
        {
            var merged = new Dictionary<string, string>(StringComparer.Ordinal);
            if (e.Metadata is not null)
            {
                foreach (var (k, v) in metadata)
                {
                    merged[k] = v;
                }
                foreach (var (k, v) in e.Metadata)
                {
                    merged[k] = v;
                }
            }
            return (e.EntryId, Message: BuildMessage(pubsub, pubsubName, topic, e.Event, e.ContentType, merged, raw));
        }).ToList();

        var failures = new List<BulkPublishFailure>();
        foreach (var (entryId, message) in messages)
        {
            try
            {
                await SendAsync(pubsubName, pubsub, message, ct);
            }
            catch (DaprApiException ex)
            {
                failures.Add(new BulkPublishFailure(entryId, ex.Message));
            }
        }
        return failures;
    }

    /// <summary>The message as sent; <paramref name="at"/> is the event's time when it was decided earlier (the outbox).</summary>
    public PubSubMessage BuildMessage(string pubsubName, string topic, byte[] data, string? contentType, IReadOnlyDictionary<string, string> metadata, DateTimeOffset? at = null) =>
        BuildMessage(components.PubSubs.GetValueOrDefault(pubsubName), pubsubName, topic, data, contentType, metadata, IsRaw(pubsubName, metadata), at);

    private PubSubMessage BuildMessage(IPubSub? pubsub, string pubsubName, string topic, byte[] data, string? contentType, IReadOnlyDictionary<string, string> metadata, bool raw, DateTimeOffset? at = null)
    {
        if (raw)
        {
            return new PubSubMessage(topic, data, string.IsNullOrEmpty(contentType) ? "application/octet-stream" : contentType, metadata);
        }
        // A broker with its own message TTL (RabbitMQ) expires messages itself; daprd writes no expiration then.
        var brokerExpires = pubsub?.Capabilities.Contains(MessageTtlCapability) == true;
        var envelope = CloudEvents.Envelope(options.AppId, pubsubName, topic, data, contentType, metadata, at ?? time.GetUtcNow(), brokerExpires);
        return new PubSubMessage(topic, envelope, CloudEvents.ContentType, metadata);
    }

    /// <summary>The capability of a broker that enforces <c>ttlInSeconds</c> natively (daprd's <c>MESSAGE_TTL</c> feature).</summary>
    public const string MessageTtlCapability = "MESSAGE_TTL";

    private static bool IsRaw(string pubsubName, IReadOnlyDictionary<string, string> metadata) =>
        Resources.RawPayloadMetadata.TryRead(metadata, out var raw)
            ? raw
            : throw DaprErrors.PubSubMetadata(pubsubName, $"failed deserializing metadata. Error: rawPayload value must be a valid boolean: actual is '{metadata["rawPayload"]}'", metadata);

    /// <summary>Hands a message to the broker (every publish, dead-letter forward and outbox relay comes here), counted as daprd's egress.</summary>
    public async Task SendAsync(string pubsubName, IPubSub pubsub, PubSubMessage message, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var success = false;
        try
        {
            await resiliency.ForComponentOutbound(pubsubName).ExecuteAsync(async c => { await pubsub.PublishAsync(message, c); return true; }, ct);
            success = true;
        }
        catch (Exception ex) when (ex is not DaprApiException and not OperationCanceledException)
        {
            throw DaprErrors.PublishFailed(message.Topic, pubsubName, ex);
        }
        finally
        {
            metrics.PubSubEgress(pubsubName, message.Topic, success, System.Diagnostics.Stopwatch.GetElapsedTime(started));
        }
    }
}
