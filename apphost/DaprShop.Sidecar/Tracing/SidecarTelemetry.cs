using System.Diagnostics;

namespace DaprShop.Sidecar.Tracing;

/// <summary>
/// The sidecar's spans. Incoming HTTP/gRPC requests get server spans from ASP.NET Core; calls to apps and other
/// sidecars get client spans from HttpClient, which also writes <c>traceparent</c>. Pub/sub deliveries need their
/// own span, parented on the <c>traceparent</c> the publisher wrote into the CloudEvent.
/// </summary>
public static class SidecarTelemetry
{
    public const string SourceName = "DaprShop.Sidecar";
    public static readonly ActivitySource Source = new(SourceName, typeof(SidecarTelemetry).Assembly.GetName().Version?.ToString());

    public static Activity? StartConsumer(string topic, string? traceparent, string? tracestate)
    {
        ActivityContext.TryParse(traceparent, tracestate, out var parent);
        var activity = Source.StartActivity($"pubsub/{topic}", ActivityKind.Consumer, parent);
        activity?.SetTag("messaging.destination.name", topic);
        activity?.SetTag("messaging.system", "dapr");
        return activity;
    }

    public static Activity? StartInternal(string name, ActivityKind kind = ActivityKind.Internal) => Source.StartActivity(name, kind);

    /// <summary>
    /// Makes sure activities exist even without an exporter, so <c>traceparent</c> is always propagated
    /// (daprd propagates trace context whatever its sampling rate).
    /// </summary>
    public static ActivityListener Listen(double samplingRate)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == SourceName || s.Name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) || s.Name.StartsWith("System.Net.Http", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> o) =>
                o.Parent.TraceId != default
                    ? (o.Parent.TraceFlags.HasFlag(ActivityTraceFlags.Recorded) ? ActivitySamplingResult.AllDataAndRecorded : ActivitySamplingResult.PropagationData)
                    : (Random.Shared.NextDouble() < samplingRate ? ActivitySamplingResult.AllDataAndRecorded : ActivitySamplingResult.PropagationData),
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}
