namespace DaprShop.Gateway.Proxy;

/// <summary>
/// The gateway's own Dapr sidecar, found as the Dapr SDKs find it: <c>DAPR_HTTP_ENDPOINT</c>, else
/// <c>http://127.0.0.1:{DAPR_HTTP_PORT}</c> (3500 when unset); <c>DAPR_API_TOKEN</c> when the sidecar requires one.
/// </summary>
public sealed record DaprSidecar(Uri HttpEndpoint, string? ApiToken)
{
    public const string AppIdHeader = "dapr-app-id";
    public const string ApiTokenHeader = "dapr-api-token";

    public static DaprSidecar From(IConfiguration configuration)
    {
        var endpoint = configuration["DAPR_HTTP_ENDPOINT"];
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            var port = configuration["DAPR_HTTP_PORT"];
            endpoint = $"http://127.0.0.1:{(string.IsNullOrWhiteSpace(port) ? "3500" : port.Trim())}";
        }
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri))
        {
            throw new InvalidOperationException($"'{endpoint}' is not a valid Dapr HTTP endpoint (DAPR_HTTP_ENDPOINT / DAPR_HTTP_PORT).");
        }
        var token = configuration["DAPR_API_TOKEN"];
        return new DaprSidecar(uri, string.IsNullOrEmpty(token) ? null : token);
    }
}
