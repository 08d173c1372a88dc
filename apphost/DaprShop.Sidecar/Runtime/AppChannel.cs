using DaprShop.Sidecar.Hosting;

namespace DaprShop.Sidecar.Runtime;

/// <summary>
/// The sidecar's connection to its own app: every callback (invocation, pub/sub delivery, bindings, actors) goes
/// through here, so <c>APP_API_TOKEN</c>, <c>--app-max-concurrency</c> and readiness apply to all. Callbacks are built as
/// HTTP requests (tagged with <see cref="AppCalls.Kind"/>); with <c>--app-protocol grpc</c> the
/// <see cref="GrpcAppChannel"/> carries them over Dapr's AppCallback service instead.
/// </summary>
public sealed class AppChannel(SidecarOptions options, IHttpClientFactory httpClients) : IDisposable
{
    public const string ClientName = "app";
    private readonly SemaphoreSlim? _concurrency = options.AppMaxConcurrency > 0 ? new SemaphoreSlim(options.AppMaxConcurrency) : null;
    private readonly GrpcAppChannel? _grpc = options.IsGrpcApp && options.AppBaseAddress is { } address ? new GrpcAppChannel(address) : null;

    public bool IsGrpc => _grpc is not null;

    public bool HasApp => options.AppPort is not null;

    /// <summary>True once the app's port accepts connections (and its health checks pass, when enabled).</summary>
    public bool IsReady { get; set; }

    /// <summary>False while app health checks fail (only with <c>--enable-app-health-check</c>).</summary>
    public bool IsHealthy { get; set; } = true;

    public Uri BaseAddress => options.AppBaseAddress ?? throw new InvalidOperationException("no --app-port was given");

    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken, HttpCompletionOption completion = HttpCompletionOption.ResponseHeadersRead)
    {
        if (!HasApp)
        {
            throw new InvalidOperationException("this sidecar has no app (no --app-port)");
        }
        if (request.RequestUri is { IsAbsoluteUri: false } relative)
        {
            request.RequestUri = new Uri(BaseAddress, relative);
        }
        // As daprd: APP_API_TOKEN replaces the header; without it a caller's own dapr-api-token header passes (the
        // calling sidecar has already removed the token it checked, if it checks one).
        if (options.AppApiToken is { } token)
        {
            request.Headers.Remove("dapr-api-token");
            request.Headers.TryAddWithoutValidation("dapr-api-token", token);
        }
        if (_concurrency is not null)
        {
            await _concurrency.WaitAsync(cancellationToken);
        }
        try
        {
            return _grpc is not null
                ? await _grpc.SendAsync(request, cancellationToken)
                : await httpClients.CreateClient(ClientName).SendAsync(request, completion, cancellationToken);
        }
        finally
        {
            _concurrency?.Release();
        }
    }

    public void Dispose() => _grpc?.Dispose();
}
