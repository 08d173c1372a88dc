namespace DaprShop.Sidecar.Runtime;

/// <summary>Readiness as daprd reports it through its two health endpoints.</summary>
public sealed class SidecarState
{
    /// <summary>Components initialised and the API ports listening: <c>/v1.0/healthz/outbound</c> answers 204.</summary>
    public volatile bool OutboundReady;

    /// <summary>Also the app reachable and its subscriptions and bindings started: <c>/v1.0/healthz</c> answers 204.</summary>
    public volatile bool Ready;

    public string ActorRuntimeStatus { get; set; } = "DISABLED";

    public bool ActorHostReady { get; set; }

    /// <summary>Cancelled by <c>/v1.0/shutdown</c>.</summary>
    public CancellationTokenSource ShutdownRequested { get; } = new();
}
