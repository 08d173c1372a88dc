using System.Text;
using System.Text.Json;
using DaprShop.Sidecar.Components.State;
using DaprShop.Sidecar.Runtime;

namespace DaprShop.Sidecar.Http;

/// <summary>How stored bytes appear inside the HTTP API's JSON answers: JSON as JSON, anything else as a string.</summary>
internal static class JsonValues
{
    public static bool IsJson(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return false;
        }
        var reader = new Utf8JsonReader(bytes);
        try
        {
            return reader.Read() && reader.TrySkip() && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public static void WriteValue(Utf8JsonWriter writer, string name, byte[] value)
    {
        if (IsJson(value))
        {
            writer.WritePropertyName(name);
            writer.WriteRawValue(value, skipInputValidation: true);
            return;
        }
        try
        {
            writer.WriteString(name, new UTF8Encoding(false, true).GetString(value));
        }
        catch (DecoderFallbackException)
        {
            writer.WriteString(name, Convert.ToBase64String(value));
        }
    }

    public static string BulkStateJson(IReadOnlyList<BulkStateItem> items)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            foreach (var item in items)
            {
                w.WriteStartObject();
                w.WriteString("key", item.Key);
                if (item.Value is not null)
                {
                    WriteValue(w, "data", item.Value);
                }
                if (!string.IsNullOrEmpty(item.ETag))
                {
                    w.WriteString("etag", item.ETag);
                }
                if (item.Metadata.Count > 0)
                {
                    w.WriteStartObject("metadata");
                    foreach (var (k, v) in item.Metadata)
                    {
                        w.WriteString(k, v);
                    }
                    w.WriteEndObject();
                }
                if (!string.IsNullOrEmpty(item.Error))
                {
                    w.WriteString("error", item.Error);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static string QueryJson(IReadOnlyList<StateQueryItem> items, string? token)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("results");
            foreach (var item in items)
            {
                w.WriteStartObject();
                w.WriteString("key", item.Key);
                WriteValue(w, "data", item.Value);
                if (!string.IsNullOrEmpty(item.ETag))
                {
                    w.WriteString("etag", item.ETag);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (!string.IsNullOrEmpty(token))
            {
                w.WriteString("token", token);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// The <c>data</c> of an output binding request as daprd hands it to the component: the value re-encoded as
    /// JSON, so a string arrives quoted (the components that expect text, localstorage and smtp, unquote it) and a
    /// missing value is <c>null</c>.
    /// </summary>
    public static byte[] BindingData(JsonElement? data) =>
        data is { ValueKind: not JsonValueKind.Undefined } d ? Encoding.UTF8.GetBytes(d.GetRawText()) : "null"u8.ToArray();

    /// <summary>
    /// A bulk publish entry's event as daprd's HTTP API converts it: <c>application/octet-stream</c> from base64 text,
    /// text types (<c>text/*</c>, <c>application/xml</c>) from a JSON string, JSON and CloudEvents as their JSON; any
    /// other content type, or an event of the wrong JSON kind, is a <see cref="FormatException"/>.
    /// </summary>
    public static byte[] EventBytes(JsonElement e, string? contentType)
    {
        const string mismatch = "error: mismatch between contentType and event";
        var media = (contentType ?? "").Split(';', 2)[0].Trim().ToLowerInvariant();
        if (media == "application/octet-stream")
        {
            if (e.ValueKind != JsonValueKind.String)
            {
                throw new FormatException(mismatch);
            }
            try
            {
                return Convert.FromBase64String(e.GetString()!);
            }
            catch (FormatException ex)
            {
                throw new FormatException($"error: unable to decode base64 application/octect-stream data: {ex.Message}");
            }
        }
        if (media.StartsWith("text/", StringComparison.Ordinal) || media == "application/xml")
        {
            return e.ValueKind == JsonValueKind.String ? Encoding.UTF8.GetBytes(e.GetString()!) : throw new FormatException(mismatch);
        }
        if (media == "application/json" || CloudEvents.IsCloudEventContentType(media))
        {
            return Encoding.UTF8.GetBytes(e.GetRawText());
        }
        throw new FormatException(mismatch);
    }
}
