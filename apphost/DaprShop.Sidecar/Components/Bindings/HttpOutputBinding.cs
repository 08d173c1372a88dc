using System.Globalization;
using System.Text.RegularExpressions;

namespace DaprShop.Sidecar.Components.Bindings;

/// <summary>
/// <c>bindings.http</c>: each operation is an HTTP verb against <c>url</c> (+ request metadata <c>path</c>).
/// As in components-contrib, request metadata keys starting with an upper-case letter become request headers,
/// the response body is the data, and the response metadata holds <c>statusCode</c>, <c>status</c> and the
/// response headers; a non-2xx answer is an error unless <c>errorIfNot2XX</c> is false.
/// </summary>
public sealed partial class HttpOutputBinding : IOutputBinding
{
    private const long DefaultMaxResponseBodySize = 100L << 20;

    private readonly IHttpClientFactory _clients;
    private readonly string _url;
    private readonly TimeSpan? _responseTimeout;
    private readonly bool _errorIfNot2XX;
    private readonly string? _securityToken;
    private readonly string? _securityTokenHeader;
    private readonly long _maxResponseBodySize;

    public HttpOutputBinding(ComponentContext context, IHttpClientFactory clients)
    {
        _url = context.Required("url");
        if (!Uri.TryCreate(_url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw context.Error("url", $"must be an absolute http:// or https:// URL, not '{_url}'");
        }
        foreach (var tls in new[] { "mtlsRootCA", "mtlsClientCert", "mtlsClientKey", "mtlsRenegotiation" })
        {
            if (context.Get(tls) is not null)
            {
                throw context.Error(tls, "is not supported by this sidecar (mTLS to the target is not implemented)");
            }
        }
        _responseTimeout = context.Get("responseTimeout") is null ? null : context.Duration("responseTimeout", TimeSpan.Zero);
        _errorIfNot2XX = context.Get("errorIfNot2XX") is not { } flag || IsTruthy(flag);
        _securityToken = context.Get("securityToken");
        _securityTokenHeader = context.Get("securityTokenHeader");
        _maxResponseBodySize = context.Get("maxResponseBodySize") is { } size
            ? ParseByteSize(size) ?? throw context.Error("maxResponseBodySize", $"must be a size in bytes such as 1048576, 100Mi or 1G, not '{size}'")
            : DefaultMaxResponseBodySize;
        _clients = clients;
    }

    public IReadOnlyList<string> Capabilities { get; } = [];

    public IReadOnlyList<string> Operations { get; } = ["create", "get", "head", "post", "put", "patch", "delete", "options", "trace"];

    public async Task<BindingResponse> InvokeAsync(BindingRequest request, CancellationToken cancellationToken)
    {
        var metadata = request.Metadata;
        var url = _url;
        if (metadata.GetValueOrDefault("path") is { Length: > 0 } path)
        {
            url = url.TrimEnd('/') + "/" + path.TrimStart('/');
        }
        var errorIfNot2XX = metadata.GetValueOrDefault("errorIfNot2XX") is { Length: > 0 } perRequest ? IsTruthy(perRequest) : _errorIfNot2XX;
        var verb = request.Operation.ToUpperInvariant() switch
        {
            "CREATE" => "POST", // kept by daprd for backward compatibility
            var v => v,
        };

        using var message = new HttpRequestMessage(new HttpMethod(verb), url);
        if (verb is "POST" or "PUT" or "PATCH")
        {
            message.Content = new ByteArrayContent(request.Data);
            if (!metadata.ContainsKey("Content-Type"))
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=utf-8");
            }
        }
        if (!metadata.ContainsKey("Accept"))
        {
            message.Headers.TryAddWithoutValidation("Accept", "application/json; charset=utf-8");
        }
        if (_securityToken is not null && _securityTokenHeader is not null)
        {
            SetHeader(message, _securityTokenHeader, _securityToken);
        }
        foreach (var (key, value) in metadata)
        {
            // Only keys starting with an upper-case letter are headers; others (path, fileName...) are not.
            if (key.Length > 0 && key[0] is >= 'A' and <= 'Z')
            {
                SetHeader(message, key, value);
            }
        }
        foreach (var trace in new[] { "traceparent", "tracestate", "baggage" })
        {
            if (metadata.GetValueOrDefault(trace) is { Length: > 0 } value)
            {
                SetHeader(message, trace, value);
            }
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (_responseTimeout is { } limit && limit > TimeSpan.Zero)
        {
            timeout.CancelAfter(limit);
        }
        try
        {
            var client = _clients.CreateClient("components");
            // daprd puts no overall limit on the call; responseTimeout (when set) bounds it instead.
            client.Timeout = Timeout.InfiniteTimeSpan;
            using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var body = await ReadBodyAsync(response, timeout.Token);
            var result = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["statusCode"] = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture),
                ["status"] = $"{(int)response.StatusCode} {response.ReasonPhrase}".TrimEnd(),
            };
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                result[CanonicalHeaderKey(name)] = string.Join(", ", values);
            }
            if (errorIfNot2XX && (int)response.StatusCode / 100 != 2)
            {
                throw new HttpRequestException($"received status code {(int)response.StatusCode}", null, response.StatusCode);
            }
            return new BindingResponse(body, result, response.Content.Headers.ContentType?.ToString());
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{verb} {url}: no response within responseTimeout {_responseTimeout}");
        }
    }

    private async Task<byte[]> ReadBodyAsync(HttpResponseMessage response, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        // Like daprd's LimitReader: a longer body is cut at the limit, not refused; <= 0 means no limit.
        var remaining = _maxResponseBodySize > 0 ? _maxResponseBodySize : long.MaxValue;
        int read;
        while (remaining > 0 && (read = await stream.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, remaining)), ct)) > 0)
        {
            buffer.Write(chunk, 0, read);
            remaining -= read;
        }
        return buffer.ToArray();
    }

    private static void SetHeader(HttpRequestMessage message, string name, string value)
    {
        message.Headers.Remove(name);
        if (message.Headers.TryAddWithoutValidation(name, value))
        {
            return;
        }
        // Content-* headers belong to the content; without a body (GET...) there is nowhere to put them.
        if (message.Content is { } content)
        {
            content.Headers.Remove(name);
            content.Headers.TryAddWithoutValidation(name, value);
        }
    }

    /// <summary>Go's <c>http.CanonicalHeaderKey</c>, so response metadata keys read as daprd's do (Content-Type, X-Request-Id).</summary>
    internal static string CanonicalHeaderKey(string name)
    {
        var chars = name.ToCharArray();
        var upper = true;
        for (var i = 0; i < chars.Length; i++)
        {
            if (chars[i] == ' ' || chars[i] > 127)
            {
                return name; // Go leaves keys with invalid characters alone
            }
            chars[i] = upper ? char.ToUpperInvariant(chars[i]) : char.ToLowerInvariant(chars[i]);
            upper = chars[i] == '-';
        }
        return new string(chars);
    }

    /// <summary>dapr/kit's IsTruthy: 1, t, true, y, yes, on (any case) are true; anything else false.</summary>
    private static bool IsTruthy(string value) =>
        value.Trim().ToLowerInvariant() is "1" or "t" or "true" or "y" or "yes" or "on";

    [GeneratedRegex(@"^\s*(?<n>\d+(\.\d+)?)\s*(?<u>Ki|Mi|Gi|Ti|Pi|k|K|M|G|T|P|)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex ByteSize();

    /// <summary>A byte count as Kubernetes quantities write it (dapr/kit's ByteSize): 1048576, 100Mi, 1G.</summary>
    internal static long? ParseByteSize(string text)
    {
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var plain))
        {
            return plain;
        }
        var m = ByteSize().Match(text);
        if (!m.Success)
        {
            return null;
        }
        var n = double.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
        var factor = m.Groups["u"].Value switch
        {
            "Ki" => 1L << 10,
            "Mi" => 1L << 20,
            "Gi" => 1L << 30,
            "Ti" => 1L << 40,
            "Pi" => 1L << 50,
            "k" or "K" => 1_000L,
            "M" => 1_000_000L,
            "G" => 1_000_000_000L,
            "T" => 1_000_000_000_000L,
            "P" => 1_000_000_000_000_000L,
            _ => 1L,
        };
        return (long)(n * factor);
    }
}
