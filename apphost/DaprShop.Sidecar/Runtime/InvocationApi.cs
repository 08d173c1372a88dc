using System.Diagnostics;
using System.Net.Sockets;
using DaprShop.Sidecar.Hosting;
using DaprShop.Sidecar.Mesh;
using DaprShop.Sidecar.Resiliency;
using DaprShop.Sidecar.Resources;

namespace DaprShop.Sidecar.Runtime;

/// <summary>
/// Service invocation, shared by both APIs. The calling sidecar resolves a replica of the target app id
/// (round-robin over the mesh), applies the target's Resiliency policies, and hands the request to that
/// replica's sidecar, which checks access control and calls its app. A call to this sidecar's own app id
/// may land on this very replica, which then calls its app directly.
/// </summary>
public sealed class InvocationApi(
    SidecarOptions options,
    MeshRegistry mesh,
    AppChannel app,
    ResiliencyEngine resiliency,
    LoadedResources resources,
    IHttpClientFactory httpClients,
    Tracing.SidecarMetrics metrics,
    ILogger<InvocationApi> logger)
{
    public const string CallerHeader = "dapr-caller-app-id";
    public const string CalleeHeader = "dapr-callee-app-id";
    public const string MeshInvokePrefix = "/_daprshop/mesh/invoke/";

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Host",
        "dapr-app-id", MeshBroker.TokenHeader, CallerHeader, CalleeHeader, "traceparent", "tracestate",
    };

    /// <summary>Headers that never pass from one hop to the next; identity and trace headers are set by the sidecar itself.</summary>
    public static bool IsHopByHop(string header) => HopByHop.Contains(header);

    /// <summary>
    /// The method as daprd cleans it before it becomes the app's path: refused if it holds <c>?</c>, <c>#</c>, NUL or a
    /// control character; <c>.</c> and <c>..</c> segments resolved and never above the root (so no method can reach
    /// anything but the app); then escaped for a URI, so that a <c>\</c> or a <c>%</c> stays what it is.
    /// </summary>
    public static string NormalizeMethod(string appId, string method)
    {
        foreach (var c in method)
        {
            if (c is '?' or '#' or '\0' || c < 0x20 || c == 0x7f)
            {
                throw DaprErrors.DirectInvoke(appId, $"invalid method: the method contains a forbidden character: {Uri.EscapeDataString(method)}");
            }
        }
        var segments = new List<string>();
        foreach (var segment in method.Split('/'))
        {
            if (segment is "" or ".")
            {
                continue;
            }
            if (segment == "..")
            {
                if (segments.Count > 0)
                {
                    segments.RemoveAt(segments.Count - 1);
                }
                continue;
            }
            segments.Add(segment);
        }
        return string.Join('/', segments.Select(EscapeSegment));
    }

    // Characters System.Uri would read as structure (a backslash becomes "/") or decode again are escaped.
    private static string EscapeSegment(string segment) =>
        segment.Replace("%", "%25", StringComparison.Ordinal).Replace("\\", "%5C", StringComparison.Ordinal).Replace(" ", "%20", StringComparison.Ordinal);

    /// <summary>Invokes <paramref name="method"/> on a replica of <paramref name="targetAppId"/>. The caller disposes the response.</summary>
    public async Task<HttpResponseMessage> InvokeAsync(string targetAppId, HttpRequestMessage request, CancellationToken ct)
    {
        var appId = StripNamespace(targetAppId);
        if (string.IsNullOrEmpty(appId))
        {
            throw DaprErrors.NoAppId();
        }
        if (options.ApiToken is not null)
        {
            request.Headers.Remove("dapr-api-token"); // daprd strips the token it checked; without one it is the app's header
        }
        request.Headers.Remove(CallerHeader);
        request.Headers.Remove(CalleeHeader);
        request.Headers.TryAddWithoutValidation(CallerHeader, options.AppId);
        request.Headers.TryAddWithoutValidation(CalleeHeader, appId);

        var policy = resiliency.ForApp(appId, request.RequestUri!.OriginalString);
        var builtInRetries = !resiliency.HasAppTarget(appId);
        byte[]? body = null;
        if (request.Content is not null)
        {
            // Buffered (bodies are bounded by --dapr-http-max-request-size) so a retry can send it again whole.
            body = await request.Content.ReadAsByteArrayAsync(ct);
        }
        var retry = policy.Retry;
        // The method as daprd labels it: the invoked path without its query or leading slash.
        var method = metrics.InvocationEnabled ? request.RequestUri.OriginalString.Split('?', 2)[0].TrimStart('/') : null;
        if (method is not null)
        {
            metrics.InvocationRequestSent(appId, method);
        }
        var sent = Stopwatch.GetTimestamp();
        try
        {
            var response = await policy.ExecuteAsync(
                c => SendOnceAsync(appId, request, body, builtInRetries, c),
                ct,
                // As daprd: any answer outside 200-399 is a failed call (the breaker counts it); the policy's
                // matching.httpStatusCodes (or gRPCStatusCodes, for a gRPC app's code), when it lists any, picks the
                // ones worth retrying.
                isFailure: r => (int)r.StatusCode is < 200 or > 399,
                isRetriableResult: r => retry is not null && (GrpcStatusOf(r) is { } code ? retry.RetriesGrpcStatus(code) : retry.RetriesHttpStatus((int)r.StatusCode)));
            if (method is not null)
            {
                metrics.InvocationResponseReceived(appId, method, GrpcStatusOf(response) ?? (int)response.StatusCode, Stopwatch.GetElapsedTime(sent));
            }
            response.Headers.Remove(AppCalls.GrpcStatusHeader);
            return response;
        }
        catch (ResiliencyTimeoutException)
        {
            throw DaprErrors.Timeout(appId);
        }
        catch (CircuitOpenException)
        {
            throw DaprErrors.CircuitOpen(appId);
        }
    }

    private static int? GrpcStatusOf(HttpResponseMessage response) =>
        response.Headers.TryGetValues(AppCalls.GrpcStatusHeader, out var values) && int.TryParse(values.FirstOrDefault(), out var code) ? code : null;

    /// <summary>
    /// One call to a replica of the app. A replica that refuses the connection is skipped for another one; and, as
    /// daprd's built-in service retries (<c>DaprBuiltInServiceRetries</c>) do for an app no Resiliency target names,
    /// when no replica can be reached the call is tried again (3 times a second apart, or as a Resiliency resource
    /// redefines that policy), so a restarting service is waited for rather than failed.
    /// </summary>
    private async Task<HttpResponseMessage> SendOnceAsync(string appId, HttpRequestMessage original, byte[]? body, bool builtInRetries, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        for (var round = 0; ; round++)
        {
            var tried = new List<string>();
            HttpRequestException? unreachable = null;
            while (mesh.Pick(appId, tried) is { } target)
            {
                using var request = Clone(original, body);
                try
                {
                    if (mesh.IsSelf(target))
                    {
                        return await CallOwnAppAsync(options.AppId, request, ct);
                    }
                    request.RequestUri = new Uri(target.BaseAddress, MeshInvokePrefix + original.RequestUri!.OriginalString.TrimStart('/'));
                    request.Headers.TryAddWithoutValidation(MeshBroker.TokenHeader, target.Token);
                    AddForwardedHeaders(request);
                    var response = await httpClients.CreateClient("mesh").SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
                    response.Headers.Remove(MeshBroker.TokenHeader);
                    return response;
                }
                catch (HttpRequestException ex) when (IsConnectionFailure(ex))
                {
                    logger.LogWarning("Replica {Instance} of {App} is unreachable: {Error}", target.InstanceId, appId, ex.Message);
                    tried.Add(target.InstanceId);
                    unreachable = ex;
                    mesh.Invalidate();
                }
                catch (HttpRequestException ex)
                {
                    throw DaprErrors.DirectInvoke(appId, ex.Message, ex);
                }
            }
            if (unreachable is null)
            {
                throw DaprErrors.DirectInvoke(appId, $"couldn't find service: {appId}");
            }
            var retries = resiliency.BuiltInServiceRetries;
            var delay = retries.DelayBefore(round + 1);
            if (!builtInRetries || !retries.Allows(round + 1, Stopwatch.GetElapsedTime(started), delay))
            {
                throw DaprErrors.DirectInvoke(appId, $"no replica of {appId} is reachable: {unreachable.Message}", unreachable);
            }
            await Task.Delay(delay, ct);
        }
    }

    /// <summary>The callee side: a request for this sidecar's app, from another sidecar or from itself.</summary>
    public async Task<HttpResponseMessage> CallOwnAppAsync(string? callerAppId, HttpRequestMessage request, CancellationToken ct)
    {
        if (!app.HasApp)
        {
            throw DaprErrors.DirectInvoke(options.AppId, "the app has no port (--app-port) to invoke");
        }
        var method = request.RequestUri!.OriginalString.Split('?', 2)[0];
        if (resources.Configuration.AccessControl is { } acl && !acl.Allows(callerAppId, method, request.Method.Method))
        {
            throw DaprErrors.InvokeDenied(options.AppId, $"access control policy has denied access to id: {callerAppId} operation: {method} verb: {request.Method.Method}");
        }
        var measured = metrics.InvocationEnabled;
        if (measured)
        {
            metrics.InvocationRequestReceived(callerAppId ?? "", method.TrimStart('/'));
        }
        try
        {
            var response = await app.SendAsync(request, ct);
            if (measured)
            {
                metrics.InvocationResponseSent(callerAppId ?? "", method.TrimStart('/'), GrpcStatusOf(response) ?? (int)response.StatusCode);
            }
            return response;
        }
        catch (HttpRequestException ex)
        {
            throw DaprErrors.DirectInvoke(options.AppId, ex.Message, ex);
        }
    }

    /// <summary>
    /// daprd's forwarding headers, added once, by the calling sidecar, on a call to another app's sidecar: this host's
    /// address and name, appended to any the request already carries.
    /// </summary>
    private static void AddForwardedHeaders(HttpRequestMessage request)
    {
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", HostAddress);
        request.Headers.TryAddWithoutValidation("X-Forwarded-Host", HostName);
        request.Headers.TryAddWithoutValidation("Forwarded", $"for={HostAddress};by={HostAddress};host={HostName}");
    }

    // Every sidecar of the local mesh listens on loopback.
    private const string HostAddress = "127.0.0.1";
    private static readonly string HostName = System.Net.Dns.GetHostName();

    private static HttpRequestMessage Clone(HttpRequestMessage original, byte[]? body)
    {
        var clone = new HttpRequestMessage(original.Method, original.RequestUri) { Version = original.Version };
        foreach (var header in original.Headers)
        {
            clone.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
        if (body is not null)
        {
            clone.Content = new ByteArrayContent(body);
            foreach (var header in original.Content!.Headers)
            {
                clone.Content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }
        return clone;
    }

    private static bool IsConnectionFailure(HttpRequestException ex) =>
        ex.HttpRequestError is HttpRequestError.ConnectionError || ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused };

    private string StripNamespace(string appId)
    {
        var dot = appId.LastIndexOf('.');
        if (dot > 0 && appId[(dot + 1)..] == options.Namespace)
        {
            return appId[..dot];
        }
        return dot > 0 && options.Namespace.Length == 0 && appId[(dot + 1)..] == "default" ? appId[..dot] : appId;
    }
}
