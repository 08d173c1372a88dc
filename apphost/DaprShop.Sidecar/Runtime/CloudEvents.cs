using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DaprShop.Sidecar.Runtime;

/// <summary>Dapr's CloudEvents 1.0 envelope: how a publish is wrapped and how a delivery is read back.</summary>
public static class CloudEvents
{
    public const string ContentType = "application/cloudevents+json";
    public const string DefaultType = "com.dapr.event.sent";

    public static bool IsCloudEventContentType(string? contentType) =>
        contentType is not null && contentType.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase);

    /// <summary>The CloudEvent source daprd gives an app-made event that has none.</summary>
    public const string DefaultSource = "Dapr";

    /// <summary>The envelope fields a publisher may set with <c>cloudevent.*</c> metadata (daprd ignores the others).</summary>
    private static readonly string[] Overridable = ["id", "source", "type", "traceid", "traceparent", "tracestate"];

    /// <summary>
    /// Wraps a published payload, or completes an app-made CloudEvent, as daprd does. An app-made event keeps its own
    /// fields but gets this publish's <c>topic</c>, <c>pubsubname</c> and trace context, and defaults for a missing
    /// <c>source</c>, <c>type</c>, <c>specversion</c> and <c>time</c>; <c>cloudevent.*</c> overrides apply only to
    /// an envelope the sidecar makes. With <paramref name="brokerExpires"/> the broker enforces <c>ttlInSeconds</c>
    /// itself, so no <c>expiration</c> is written.
    /// </summary>
    public static byte[] Envelope(string appId, string pubsub, string topic, byte[] data, string? contentType, IReadOnlyDictionary<string, string> metadata, DateTimeOffset now, bool brokerExpires = false)
    {
        var ttl = TtlOf(metadata);
        var activity = Activity.Current;
        var traceparent = activity?.Id is { } id && activity.IdFormat == ActivityIdFormat.W3C ? id : null;
        var tracestate = activity?.TraceStateString ?? "";
        JsonObject ce;
        if (IsCloudEventContentType(contentType))
        {
            try
            {
                ce = JsonNode.Parse(data) as JsonObject ?? throw DaprErrors.CloudEventCreation(pubsub, appId, "the payload is not a JSON object");
            }
            catch (JsonException ex)
            {
                throw DaprErrors.CloudEventCreation(pubsub, appId, ex.Message);
            }
            ce.TryAdd("time", Rfc3339(now));
            ce.TryAdd("source", DefaultSource);
            ce.TryAdd("type", DefaultType);
            ce.TryAdd("specversion", "1.0");
        }
        else
        {
            var overrides = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, value) in metadata)
            {
                // Case-insensitive and empty-means-default, as daprd's weak decoding of the overrides.
                if (key.StartsWith("cloudevent.", StringComparison.OrdinalIgnoreCase) && value.Length > 0
                    && Overridable.FirstOrDefault(f => f.Equals(key[11..], StringComparison.OrdinalIgnoreCase)) is { } field)
                {
                    overrides[field] = value;
                }
            }
            // An overridden traceparent wins over traceid; either becomes both fields.
            traceparent = overrides.GetValueOrDefault("traceparent") ?? overrides.GetValueOrDefault("traceid") ?? traceparent;
            tracestate = overrides.GetValueOrDefault("tracestate") ?? tracestate;
            var dataContentType = string.IsNullOrEmpty(contentType) ? "text/plain" : contentType;
            ce = new JsonObject
            {
                ["id"] = overrides.GetValueOrDefault("id") ?? Guid.NewGuid().ToString(),
                ["source"] = overrides.GetValueOrDefault("source") ?? appId,
                ["type"] = overrides.GetValueOrDefault("type") ?? DefaultType,
                ["specversion"] = "1.0",
                ["datacontenttype"] = dataContentType,
                ["time"] = Rfc3339(now),
            };
            SetData(ce, data, dataContentType);
        }

        ce["topic"] = topic;
        ce["pubsubname"] = pubsub;
        if (traceparent is not null)
        {
            ce["traceid"] = traceparent;
            ce["traceparent"] = traceparent;
        }
        ce["tracestate"] = tracestate;
        if (ttl is { } seconds && !brokerExpires)
        {
            ce["expiration"] = Rfc3339(now.AddSeconds(seconds));
        }
        return JsonSerializer.SerializeToUtf8Bytes(ce);
    }

    /// <summary>Go's <c>time.RFC3339</c> as daprd writes <c>time</c> and <c>expiration</c>: whole seconds, UTC here.</summary>
    private static string Rfc3339(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// <c>ttlInSeconds</c>, or null when absent — or when it is not a positive number: daprd's envelope ignores a
    /// TTL it cannot read (its parse error is dropped) and publishes the message without an expiration.
    /// </summary>
    public static long? TtlOf(IReadOnlyDictionary<string, string> metadata) =>
        metadata.TryGetValue("ttlInSeconds", out var text)
        && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ttl) && ttl > 0
            ? ttl
            : null;

    /// <summary>
    /// daprd's placement of the payload: <c>application/json</c> is parsed into <c>data</c> (kept as text if it does
    /// not parse), <c>application/octet-stream</c> goes to <c>data_base64</c>, anything else is <c>data</c> as text.
    /// Bytes of another type that are not UTF-8 go to <c>data_base64</c>, where daprd would replace them with U+FFFD.
    /// </summary>
    private static void SetData(JsonObject ce, byte[] data, string contentType)
    {
        var media = contentType.Split(';', 2)[0].Trim().ToLowerInvariant();
        if (media == "application/json")
        {
            try
            {
                ce["data"] = JsonNode.Parse(data);
                return;
            }
            catch (JsonException)
            {
                // not JSON after all: kept as text below
            }
        }
        if (media != "application/octet-stream" && IsUtf8(data))
        {
            ce["data"] = Encoding.UTF8.GetString(data);
            return;
        }
        ce["data_base64"] = Convert.ToBase64String(data);
    }

    private static bool IsUtf8(byte[] data)
    {
        try
        {
            _ = new UTF8Encoding(false, true).GetString(data);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    /// <summary>
    /// Reads a delivered message as a CloudEvent, as daprd does: on a subscription that reads raw payloads the
    /// message is wrapped into a new CloudEvent with <c>data_base64</c>; otherwise any JSON object is taken as the
    /// CloudEvent, and a message that is not one gives null (daprd dead-letters it, or hands it back to the broker).
    /// </summary>
    public static JsonObject? ForDelivery(byte[] message, string pubsub, string topic, bool raw, IReadOnlyDictionary<string, string> metadata)
    {
        if (!raw)
        {
            try
            {
                return JsonNode.Parse(message) as JsonObject;
            }
            catch (JsonException)
            {
                return null;
            }
        }
        var wrapped = new JsonObject
        {
            ["id"] = Guid.NewGuid().ToString(),
            ["source"] = DefaultSource,
            ["type"] = DefaultType,
            ["specversion"] = "1.0",
            ["datacontenttype"] = "application/octet-stream",
            ["topic"] = topic,
            ["pubsubname"] = pubsub,
            ["data_base64"] = Convert.ToBase64String(message),
        };
        // The trace context a broker carried beside the payload, as daprd copies it.
        foreach (var field in new[] { "traceid", "traceparent", "tracestate" })
        {
            if (metadata.TryGetValue(field, out var value))
            {
                wrapped[field] = value;
            }
        }
        if (metadata.TryGetValue("traceparent", out var parent))
        {
            wrapped["traceid"] = parent;
        }
        return wrapped;
    }

    public static DateTimeOffset? Expiration(JsonObject ce) =>
        ce["expiration"] is JsonValue v && v.TryGetValue<string>(out var s) && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;
}
