using DaprShop.Sidecar.Components.PubSub;
using DaprShop.Sidecar.Hosting;
using DaprShop.Sidecar.Resiliency;

namespace DaprShop.Sidecar.Runtime;

public sealed record BulkPublishEntry(string EntryId, byte[] Event, string? ContentType, IReadOnlyDictionary<string, string> Metadata);

public sealed record BulkPublishFailure(string EntryId, string Error);

/// <summary>The publishing half of pub/sub, shared by both APIs: envelope, component lookup, resiliency.</summary>
public sealed class PubSubApi(ComponentHost components, SidecarOptions options, ResiliencyEngine resiliency, TimeProvider time)
{
    public IPubSub Find(string pubsubName, string topic)
    {
        if (string.IsNullOrEmpty(pubsubName))
        {
            throw DaprErrors.PubSubNameEmpty();
        }
        if (components.PubSubs.Count == 0)
        {
            throw DaprErrors.PubSubsNotConfigured();
        }
        if (!components.PubSubs.TryGetValue(pubsubName, out var pubsub))
        {
            throw DaprErrors.PubSubNotFound(pubsubName);
        }
        if (string.IsNullOrEmpty(topic))
        {
            throw DaprErrors.TopicEmpty(pubsubName);
        }
        return pubsub;
    }

    /// <summary><see cref="Find"/> for the app's own publishes, which the component's topic scoping may forbid.</summary>
    private IPubSub FindForApp(string pubsubName, string topic)
    {
        var pubsub = Find(pubsubName, topic);
        if (!components.TopicScopesOf(pubsubName).CanPublish(topic))
        {
            throw DaprErrors.PubSubForbidden(topic, options.AppId);
        }
        return pubsub;
    }

    public async Task PublishAsync(string pubsubName, string topic, byte[] data, string? contentType, IReadOnlyDictionary<string, string> metadata, CancellationToken ct)
    {
        var pubsub = FindForApp(pubsubName, topic);
        var message = BuildMessage(pubsubName, topic, data, contentType, metadata);
        await SendAsync(pubsubName, pubsub, message, ct);
    }

    /// <summary>Publishes each entry; the ones that failed come back with their errors (an empty list is full success).</summary>
    public async Task<IReadOnlyList<BulkPublishFailure>> BulkPublishAsync(string pubsubName, string topic, IReadOnlyList<BulkPublishEntry> entries, IReadOnlyDictionary<string, string> metadata, CancellationToken ct)
    {
        var pubsub = FindForApp(pubsubName, topic);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (string.IsNullOrEmpty(entry.EntryId))
            {
                throw DaprErrors.BulkPublishEntries("entryId is duplicated or not present for entry");
            }
            if (!seen.Add(entry.EntryId))
            {
                throw DaprErrors.BulkPublishEntries($"entryId is duplicated or not present for entry {entry.EntryId}");
            }
        }
        var messages = entries.Select(e =>
        {
            var merged = new Dictionary<string, string>(metadata, StringComparer.Ordinal);
            foreach (var (k, v) in e.Metadata)
            {
                merged[k] = v;
            }
            return (e.EntryId, Message: BuildMessage(pubsubName, topic, e.Event, e.ContentType, merged));
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
    public PubSubMessage BuildMessage(string pubsubName, string topic, byte[] data, string? contentType, IReadOnlyDictionary<string, string> metadata, DateTimeOffset? at = null)
    {
        var raw = false;
        if (metadata.TryGetValue("rawPayload", out var rawText) && !bool.TryParse(rawText, out raw))
        {
            throw DaprErrors.PubSubMetadata($"rawPayload value must be a valid boolean: actual is '{rawText}'");
        }
        if (raw)
        {
            return new PubSubMessage(topic, data, string.IsNullOrEmpty(contentType) ? "application/octet-stream" : contentType, metadata);
        }
        var envelope = CloudEvents.Envelope(options.AppId, pubsubName, topic, data, contentType, metadata, at ?? time.GetUtcNow());
        return new PubSubMessage(topic, envelope, CloudEvents.ContentType, metadata);
    }

    public async Task SendAsync(string pubsubName, IPubSub pubsub, PubSubMessage message, CancellationToken ct)
    {
        try
        {
            await resiliency.ForComponentOutbound(pubsubName).ExecuteAsync(async c => { await pubsub.PublishAsync(message, c); return true; }, ct);
        }
        catch (Exception ex) when (ex is not DaprApiException and not OperationCanceledException)
        {
            throw DaprErrors.PublishFailed(message.Topic, pubsubName, ex);
        }
    }
}
