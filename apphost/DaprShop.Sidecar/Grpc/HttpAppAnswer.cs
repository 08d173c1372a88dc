using System.Text;
using Grpc.Core;
using Microsoft.AspNetCore.WebUtilities;

namespace DaprShop.Sidecar.Grpc;

/// <summary>
/// An HTTP app's answer to a gRPC <c>InvokeService</c> call, turned into gRPC as daprd turns it: the headers
/// become response metadata, and a status outside 2xx an error whose code follows daprd's table, whose message is
/// the HTTP reason phrase and whose <c>google.rpc.ErrorInfo</c> carries the status and the start of the body — the
/// place the Dapr SDKs read them from.
/// </summary>
public static class HttpAppAnswer
{
    private const int MaxMetadataValueBytes = 63; // ErrorInfo metadata values are limited to 64 characters

    // The IANA permanent request headers: daprd renames them with a dapr- prefix, so that none of them can clash
    // with the HTTP/2 framing of the gRPC response.
    private static readonly HashSet<string> Permanent = new(StringComparer.OrdinalIgnoreCase)
    {
        "Accept", "Accept-Charset", "Accept-Language", "Accept-Ranges", "Connection", "Keep-Alive", "Proxy-Connection",
        "Transfer-Encoding", "Upgrade", "Cache-Control", "Content-Type", "Content-Length", "Cookie", "Date", "Expect",
        "From", "Host", "If-Match", "If-Modified-Since", "If-None-Match", "If-Schedule-Tag-Match", "If-Unmodified-Since",
        "Max-Forwards", "Origin", "Pragma", "Referer", "Via", "Warning",
    };

    // The sidecar's own trace context replaces the app's; the destination id is routing, not an answer.
    private static readonly HashSet<string> Dropped = new(StringComparer.OrdinalIgnoreCase)
    {
        "traceparent", "tracestate", "grpc-trace-bin", "destination-app-id",
    };

    /// <summary>daprd's mapping of an HTTP status to a gRPC code (invokev1's <c>CodeFromHTTPStatus</c>).</summary>
    public static StatusCode Code(int status) => status switch
    {
        408 => StatusCode.Cancelled,
        500 => StatusCode.Unknown,
        400 => StatusCode.Internal,
        504 => StatusCode.DeadlineExceeded,
        404 => StatusCode.NotFound,
        409 => StatusCode.AlreadyExists,
        403 => StatusCode.PermissionDenied,
        401 => StatusCode.Unauthenticated,
        429 => StatusCode.ResourceExhausted,
        501 => StatusCode.Unimplemented,
        503 => StatusCode.Unavailable,
        >= 200 and < 300 => StatusCode.OK,
        _ => StatusCode.Unknown,
    };

    /// <summary>The error for a status outside 2xx, with the <c>grpc-status-details-bin</c> daprd attaches.</summary>
    public static RpcException Error(int status, byte[] body)
    {
        var reason = ReasonPhrases.GetReasonPhrase(status);
        var metadata = new Dictionary<string, string>
        {
            ["http.code"] = status.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["http.error_message"] = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, MaxMetadataValueBytes)),
        };
        // Only the gRPC rendering is used: the HTTP status and error code of the exception never reach a caller.
        return Runtime.RichErrors.ToRpcException(new Runtime.DaprApiException(status, Code(status), "", reason) { Details = new(reason, metadata) });
    }

    /// <summary>The app's headers as gRPC response metadata, plus <c>dapr-http-status</c>.</summary>
    public static Metadata Headers(HttpResponseMessage response)
    {
        var metadata = new Metadata();
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (Dropped.Contains(name) || !IsMetadataKey(name))
            {
                continue;
            }
            var key = (Permanent.Contains(name) ? "dapr-" + name : name).ToLowerInvariant();
            foreach (var value in values)
            {
                if (key.EndsWith("-bin", StringComparison.Ordinal))
                {
                    // An HTTP app can only send binary metadata base64-encoded; daprd decodes it (and drops it if it cannot).
                    var bytes = new byte[value.Length];
                    if (Convert.TryFromBase64String(value, bytes, out var written))
                    {
                        metadata.Add(key, bytes[..written]);
                    }
                }
                else if (value.All(c => c is >= ' ' and <= '~'))
                {
                    metadata.Add(key, value);
                }
            }
        }
        metadata.Add("dapr-http-status", ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
        return metadata;
    }

    private static bool IsMetadataKey(string name) =>
        name.Length > 0 && !name.StartsWith("grpc-", StringComparison.OrdinalIgnoreCase)
        && name.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '_' or '.');
}
