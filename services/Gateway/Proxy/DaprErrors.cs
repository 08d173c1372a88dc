using System.Text.Json;
using Yarp.ReverseProxy.Transforms;

namespace DaprShop.Gateway.Proxy;

/// <summary>
/// Dapr answers an invocation it could not complete (no such app, no replica reachable, the app's sidecar timed
/// out) with its own small JSON error, <c>{"errorCode":"ERR_...","message":"..."}</c>. Clients get problem details
/// instead: the message names internal addresses and belongs in the gateway's log. The apps' own errors
/// (problem+json, or anything that is not a Dapr error) pass through untouched.
/// </summary>
internal static class DaprErrors
{
    private const int MaxErrorBytes = 16 * 1024;

    public static async ValueTask TranslateAsync(ResponseTransformContext context, string appId)
    {
        var upstream = context.ProxyResponse;
        if (upstream is null || upstream.IsSuccessStatusCode || upstream.Content.Headers.ContentType?.MediaType != "application/json")
        {
            return;
        }
        var (head, complete, stream) = await ReadHeadAsync(upstream.Content, context.CancellationToken);
        context.SuppressResponseBody = true;
        if (complete && TryParse(head, out var code, out var message))
        {
            var logger = context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DaprErrors));
            logger.LogWarning("Dapr could not invoke {AppId} for {Method} {Path}: {Status} {ErrorCode} {Message}",
                appId, context.HttpContext.Request.Method, context.HttpContext.Request.Path, (int)upstream.StatusCode, code, message);
            var (status, detail) = ProblemFor((int)upstream.StatusCode, message, appId);
            await Problems.WriteAsync(context.HttpContext, status, detail);
            return;
        }
        // Not Dapr's: the app's own JSON error, sent on as it came.
        var body = context.HttpContext.Response.Body;
        await body.WriteAsync(head, context.CancellationToken);
        if (!complete)
        {
            await stream.CopyToAsync(body, context.CancellationToken);
        }
    }

    /// <summary>The problem a client gets for a Dapr error: 504 for a timeout, 503 for another failure, 502 for a refusal.</summary>
    internal static (int Status, string Detail) ProblemFor(int daprStatus, string message, string appId)
    {
        // daprd reports a call its resiliency timeout ended as a 500 whose message ends in "context deadline exceeded".
        var timedOut = daprStatus == StatusCodes.Status504GatewayTimeout || message.Contains("context deadline exceeded", StringComparison.Ordinal);
        return daprStatus switch
        {
            _ when timedOut => (StatusCodes.Status504GatewayTimeout, $"The {appId} service did not answer in time."),
            >= 500 => (StatusCodes.Status503ServiceUnavailable, $"The {appId} service is not available right now."),
            // Dapr refusing the gateway's own request (access control, a missing app id) is the gateway's fault, not the client's.
            _ => (StatusCodes.Status502BadGateway, $"The {appId} service could not be invoked."),
        };
    }

    private static async Task<(byte[] Head, bool Complete, Stream Stream)> ReadHeadAsync(HttpContent content, CancellationToken cancellationToken)
    {
        var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[MaxErrorBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
        {
            length += read;
        }
        return (buffer[..length], length <= MaxErrorBytes, stream);
    }

    internal static bool TryParse(ReadOnlySpan<byte> body, out string code, out string message)
    {
        code = message = "";
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("errorCode", out var c) && c.ValueKind == JsonValueKind.String
                && c.GetString() is { } errorCode && errorCode.StartsWith("ERR_", StringComparison.Ordinal))
            {
                code = errorCode;
                message = document.RootElement.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() ?? "" : "";
                return true;
            }
        }
        catch (JsonException)
        {
        }
        return false;
    }
}
