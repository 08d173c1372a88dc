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

    public static bool IsJson(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return false;
        }
        var media = contentType.Split(';', 2)[0].Trim().ToLowerInvariant();
        return media == "application/json" || media == "text/json" || media.EndsWith("+json", StringComparison.Ordinal);
    }

    /// <summary>Wraps a published payload, or completes an app-made CloudEvent, as daprd does.</summary>
    public static byte[] Envelope(string appId, string pubsub, string topic, byte[] data, string? contentType, IReadOnlyDictionary<string, string> metadata, DateTimeOffset now)
    {
        JsonObject ce;
        if (IsCloudEventContentType(contentType))
        {
            try
            {
                ce = JsonNode.Parse(data) as JsonObject ?? throw DaprErrors.CloudEventsSerialization(topic, pubsub, "the payload is not a JSON object");
            }
            catch (JsonException ex)
            {
                throw DaprErrors.CloudEventsSerialization(topic, pubsub, ex.Message);
            }
            ce.TryAdd("id", Guid.NewGuid().ToString());
            ce.TryAdd("source", appId);
            ce.TryAdd("type", DefaultType);
            ce.TryAdd("specversion", "1.0");
            if (!ce.ContainsKey("datacontenttype") && (ce.ContainsKey("data") || ce.ContainsKey("data_base64")))
            {
                ce["datacontenttype"] = ce["data"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? "text/plain" : "application/json";
            }
        }
        else
        {
            var dataContentType = string.IsNullOrEmpty(contentType) ? "text/plain" : contentType;
            ce = new JsonObject
            {
                ["id"] = Guid.NewGuid().ToString(),
                ["source"] = appId,
                ["type"] = DefaultType,
                ["specversion"] = "1.0",
                ["datacontenttype"] = dataContentType,
            };
            SetData(ce, data, dataContentType);
        }

        ce["topic"] = topic;
        ce["pubsubname"] = pubsub;
        var traceparent = Activity.Current?.Id is { } id && Activity.Current.IdFormat == ActivityIdFormat.W3C ? id : null;
        if (traceparent is not null)
        {
            ce.TryAdd("traceid", traceparent);
            ce.TryAdd("traceparent", traceparent);
            if (Activity.Current?.TraceStateString is { Length: > 0 } state)
            {
                ce.TryAdd("tracestate", state);
            }
        }
        ce.TryAdd("time", now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));

        foreach (var (key, value) in metadata)
        {
            if (key.StartsWith("cloudevent.", StringComparison.OrdinalIgnoreCase) && key.Length > 11)
            {
                var field = key[11..].ToLowerInvariant();
                ce[field] = value;
                if (field == "traceparent")
                {
                    ce["traceid"] = value;
                }
            }
        }
        if (metadata.TryGetValue("ttlInSeconds", out var ttlText))
        {
            if (!long.TryParse(ttlText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ttl) || ttl <= 0)
            {
                throw DaprErrors.PubSubMetadata($"ttlInSeconds must be a positive integer, not '{ttlText}'");
            }
            ce["expiration"] = now.AddSeconds(ttl).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
        }
        return JsonSerializer.SerializeToUtf8Bytes(ce);
    }

    /// <summary>JSON stays JSON; text stays a string; anything else goes into <c>data_base64</c>.</summary>
    private static void SetData(JsonObject ce, byte[] data, string contentType)
    {
        if (data.Length == 0)
        {
            return;
        }
        if (IsJson(contentType))
        {
            try
            {
                ce["data"] = JsonNode.Parse(data);
                return;
            }
            catch (JsonException)
            {
                // not JSON after all: fall through and keep it as text
            }
        }
        if (IsText(contentType) && IsUtf8(data))
        {
            ce["data"] = Encoding.UTF8.GetString(data);
            return;
        }
        ce["data_base64"] = Convert.ToBase64String(data);
    }

    private static bool IsText(string contentType)
    {
        var media = contentType.Split(';', 2)[0].Trim().ToLowerInvariant();
        return media.StartsWith("text/", StringComparison.Ordinal) || IsJson(media) || media.EndsWith("+xml", StringComparison.Ordinal) || media == "application/xml";
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
    /// Reads a delivered message as a CloudEvent. A raw payload (published with <c>rawPayload</c>, or a non-CloudEvent
    /// message) is wrapped into one with <c>data_base64</c>, as daprd hands raw messages to apps.
    /// </summary>
    public static JsonObject ForDelivery(byte[] message, string? contentType, string pubsub, string topic, bool raw)
    {
        if (!raw)
        {
            try
            {
                if (JsonNode.Parse(message) is JsonObject ce && ce.ContainsKey("specversion"))
                {
                    return ce;
                }
            }
            catch (JsonException)
            {
                // not a CloudEvent: wrap below
            }
        }
        var wrapped = new JsonObject
        {
            ["id"] = Guid.NewGuid().ToString(),
            ["source"] = "",
            ["type"] = DefaultType,
            ["specversion"] = "1.0",
            ["datacontenttype"] = "application/octet-stream",
            ["topic"] = topic,
            ["pubsubname"] = pubsub,
            ["data_base64"] = Convert.ToBase64String(message),
        };
        _ = contentType;
        return wrapped;
    }

    public static DateTimeOffset? Expiration(JsonObject ce) =>
        ce["expiration"] is JsonValue v && v.TryGetValue<string>(out var s) && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;
}
