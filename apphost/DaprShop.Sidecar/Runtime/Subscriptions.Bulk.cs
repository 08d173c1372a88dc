using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using DaprShop.Sidecar.Tracing;

namespace DaprShop.Sidecar.Runtime;

// Bulk subscribe: a batch from BulkBatcher goes to the app as daprd's bulk envelope, one request per route, and the
// app answers a status per entry. Each entry then ends as a single message would: SUCCESS acknowledges; DROP and
// RETRY-after-retries go to the dead-letter topic when there is one; RETRY without one is redelivered by the broker.
public sealed partial class Subscriptions
{
    public const string BulkEventType = "com.dapr.event.sent.bulk";

    private sealed record Routed(BulkEntry Entry, JsonObject CloudEvent, JsonNode Event, string ContentType);

    internal async Task HandleBulkAsync(ActiveSubscription subscription, IReadOnlyList<BulkEntry> batch, CancellationToken ct)
    {
        if (!app.IsHealthy)
        {
            throw new InvalidOperationException("the app is unhealthy: delivery paused");
        }
        var definition = subscription.Definition;
        var byPath = new Dictionary<string, List<Routed>>(StringComparer.Ordinal);
        foreach (var entry in batch)
        {
            var message = entry.Message;
            var ce = CloudEvents.ForDelivery(message.Data, definition.PubSubName, definition.Topic, definition.RawPayload, message.Metadata);
            if (ce is null)
            {
                await SettleAsync(definition, entry, new JsonObject(), Outcome.Retry, NotACloudEvent, ct);
                continue;
            }
            var (path, unroutable) = PathFor(subscription, ce);
            if (path is null)
            {
                await SettleAsync(definition, entry, ce, Outcome.Drop, unroutable!, ct);
                continue;
            }
            // daprd hands a raw payload over as base64 text of type application/octet-stream, a CloudEvent as its JSON.
            var routed = definition.RawPayload
                ? new Routed(entry, ce, JsonValue.Create(Convert.ToBase64String(message.Data)), "application/octet-stream")
                : new Routed(entry, ce, ce, CloudEvents.ContentType);
            (byPath.TryGetValue(path, out var list) ? list : byPath[path] = []).Add(routed);
        }

        foreach (var (path, entries) in byPath)
        {
            var outcomes = entries.ToDictionary(e => e.Entry.EntryId, _ => Outcome.Retry, StringComparer.Ordinal);
            try
            {
                // A retry of the resiliency policy sends again only the entries the app has not settled.
                await resiliency.ForComponentInbound(definition.PubSubName).ExecuteAsync(
                    async c =>
                    {
                        await DeliverBulkAsync(definition, path, [.. entries.Where(e => outcomes[e.Entry.EntryId] == Outcome.Retry)], outcomes, c);
                        return outcomes.Values.Any(o => o == Outcome.Retry) ? Outcome.Retry : Outcome.Success;
                    },
                    ct,
                    isFailure: o => o == Outcome.Retry);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                logger.LogWarning("Bulk delivery of {Count} messages on {Topic} failed: {Error}", entries.Count, definition.Topic, ex.Message);
            }
            foreach (var e in entries)
            {
                var outcome = outcomes[e.Entry.EntryId];
                await SettleAsync(definition, e.Entry, e.CloudEvent, outcome, outcome == Outcome.Drop ? "the app dropped it" : "delivery failed after retries", ct);
            }
        }
    }

    /// <summary>Ends one entry as its single message would end.</summary>
    private async Task SettleAsync(Resources.SubscriptionDefinition definition, BulkEntry entry, JsonObject ce, Outcome outcome, string why, CancellationToken ct)
    {
        try
        {
            if (outcome == Outcome.Success)
            {
                entry.Done.TrySetResult();
                return;
            }
            if (outcome == Outcome.Drop)
            {
                await DeadLetterOrDropAsync(definition, entry.Message, ce, why, ct);
            }
            else
            {
                await DeadLetterOrHandBackAsync(definition, entry.Message, ce, why, ct);
            }
            entry.Done.TrySetResult();
        }
        catch (Exception ex)
        {
            entry.Done.TrySetException(ex); // no dead-letter topic, or its publish failed: the broker keeps the message
        }
    }

    private async Task DeliverBulkAsync(Resources.SubscriptionDefinition definition, string path, IReadOnlyList<Routed> entries, Dictionary<string, Outcome> outcomes, CancellationToken ct)
    {
        if (entries.Count == 0)
        {
            return;
        }
        using var activity = SidecarTelemetry.StartConsumer(definition.Topic, entries[0].CloudEvent["traceparent"]?.GetValue<string>(), entries[0].CloudEvent["tracestate"]?.GetValue<string>());
        activity?.SetTag("messaging.batch.message_count", entries.Count);
        var envelope = new JsonObject
        {
            ["id"] = Guid.NewGuid().ToString(),
            ["type"] = BulkEventType,
            ["topic"] = definition.Topic,
            ["pubsubname"] = definition.PubSubName,
            ["metadata"] = new JsonObject { ["pubsubName"] = definition.PubSubName },
            ["entries"] = new JsonArray([.. entries.Select(e => (JsonNode)new JsonObject
            {
                ["entryId"] = e.Entry.EntryId,
                ["event"] = e.Event.DeepClone(),
                ["metadata"] = new JsonObject([.. e.Entry.Message.Metadata
                    .Where(m => !m.Key.StartsWith("cloudevent.", StringComparison.OrdinalIgnoreCase))
                    .Select(m => KeyValuePair.Create(m.Key, (JsonNode?)JsonValue.Create(m.Value)))]),
                ["contentType"] = e.ContentType,
            })]),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/" + path.TrimStart('/'))
        {
            Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(envelope)),
        }.As(AppCallKind.BulkTopicEvent);
        request.Content!.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("pubsubname", definition.PubSubName);
        using var response = await app.SendAsync(request, ct, HttpCompletionOption.ResponseContentRead);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            // daprd acknowledges the whole batch on a 404 (no retry, no dead letter).
            logger.LogWarning("The app answered 404 for bulk path {Path}: {Count} messages acknowledged without delivery", path, entries.Count);
            foreach (var e in entries)
            {
                outcomes[e.Entry.EntryId] = Outcome.Success;
            }
            return;
        }
        if (!response.IsSuccessStatusCode)
        {
            activity?.SetStatus(ActivityStatusCode.Error, $"HTTP {(int)response.StatusCode}");
            return; // every entry stays RETRY
        }
        // {"statuses":[{"entryId":"...","status":"SUCCESS|RETRY|DROP"}]}; an entry not named is RETRY.
        try
        {
            using var doc = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(ct));
            // Keys in any case, status values exactly, as daprd's Go decoding reads them.
            if (Field(doc.RootElement, "statuses") is not { ValueKind: JsonValueKind.Array } statuses)
            {
                logger.LogWarning("The app's bulk answer on {Topic} has no statuses: every entry is retried", definition.Topic);
                return;
            }
            foreach (var status in statuses.EnumerateArray())
            {
                if (Field(status, "entryId") is { ValueKind: JsonValueKind.String } id
                    && outcomes.ContainsKey(id.GetString()!) && entries.Any(e => e.Entry.EntryId == id.GetString()))
                {
                    outcomes[id.GetString()!] = (Field(status, "status") is { ValueKind: JsonValueKind.String } s ? s.GetString() : null) switch
                    {
                        "SUCCESS" => Outcome.Success,
                        "DROP" => Outcome.Drop,
                        _ => Outcome.Retry,
                    };
                }
            }
        }
        catch (JsonException ex)
        {
            logger.LogWarning("The app's bulk answer on {Topic} is not JSON ({Error}): every entry is retried", definition.Topic, ex.Message);
        }
    }
}
