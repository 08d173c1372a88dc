using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using DaprShop.Sidecar.Hosting;
using DaprShop.Sidecar.Resources;

namespace DaprShop.Sidecar.Tracing;

/// <summary>
/// daprd's resiliency metrics under its names and labels (dapr/dapr's pkg/diagnostics/resiliency_monitoring.go), on
/// the meter of <see cref="SidecarMetrics"/>: the Resiliency resources loaded, each policy applied to a call
/// (<c>dapr_resiliency_count</c>), each activation — a retry, a timeout that fired, a breaker that changed state — and
/// each breaker's state as of its last call. As in daprd, every series is labelled with the name and namespace of the
/// last Resiliency resource read, the policy kind, the flow direction and the target (<c>app_{id}</c>,
/// <c>actor_{type}</c>, <c>{Kind}_{component}</c> such as <c>Statestore_orders</c>).
/// </summary>
public sealed class ResiliencyMetrics
{
    public const string Timeout = "timeout";
    public const string Retry = "retry";
    public const string CircuitBreaker = "circuitbreaker";
    public const string Outbound = "outbound";
    public const string Inbound = "inbound";

    private static readonly string[] BreakerStates = ["closed", "half-open", "open", "unknown"];

    private readonly string _appId;
    private readonly string _name;
    private readonly string _namespace;
    private readonly Counter<long> _executed;
    private readonly Counter<long> _activated;
    private readonly ObservableGauge<long> _breakerState;
    private readonly ConcurrentDictionary<(string Target, string Direction), string> _breakers = new();

    public ResiliencyMetrics(IMeterFactory meters, SidecarOptions options, LoadedResources resources)
    {
        _appId = options.AppId;
        var last = resources.Resiliencies.LastOrDefault();
        (_name, _namespace) = (last?.Name ?? "", last?.Namespace ?? "");
        var meter = meters.Create(SidecarMetrics.MeterName);
        var loaded = resources.Resiliencies.GroupBy(r => (r.Name, r.Namespace))
            .Select(g => new Measurement<long>(g.Count(), new TagList { { "app_id", _appId }, { "name", g.Key.Name }, { "namespace", g.Key.Namespace } }))
            .ToList();
        meter.CreateObservableCounter("dapr_resiliency_loaded", () => loaded, unit: null, "Number of resiliency policies loaded.");
        _executed = meter.CreateCounter<long>("dapr_resiliency_count", description: "Number of times a resiliency policyKey has been applied to a building block.");
        _activated = meter.CreateCounter<long>("dapr_resiliency_activations_total",
            description: "Number of times a resiliency policyKey has been activated in a building block after a failure or after a state change.");
        _breakerState = meter.CreateObservableGauge("dapr_resiliency_cb_state", ObserveBreakers, unit: null,
            "A resiliency policy's current CircuitBreakerState state. 0 is closed, 1 is half-open, 2 is open, and -1 is unknown.");
    }

    /// <summary>Whether anything listens (so that the resiliency engine can skip working out its labels).</summary>
    public bool Enabled => _executed.Enabled || _activated.Enabled || _breakerState.Enabled;

    /// <summary>A policy applied to a call (<paramref name="status"/>: a breaker's state; empty for the others, as in daprd).</summary>
    public void Executed(string target, string direction, string policy, string status = "")
    {
        _executed.Add(1, Tags(target, direction, policy, status));
        if (policy == CircuitBreaker)
        {
            _breakers[(target, direction)] = status;
        }
    }

    /// <summary>A policy that acted: a retry after a failure, a timeout that fired, a breaker that moved to <paramref name="status"/>.</summary>
    public void Activated(string target, string direction, string policy, string status = "") =>
        _activated.Add(1, Tags(target, direction, policy, status));

    private TagList Tags(string target, string direction, string policy, string status) => new()
    {
        { "app_id", _appId }, { "name", _name }, { "policy", policy }, { "namespace", _namespace },
        { "flow_direction", direction }, { "target", target }, { "status", status },
    };

    // As daprd's view: one series per state, 1 for the state the breaker was in at its last call and 0 for the others.
    private IEnumerable<Measurement<long>> ObserveBreakers() =>
        _breakers.SelectMany(b => BreakerStates.Select(state =>
            new Measurement<long>(state == b.Value ? 1 : 0, Tags(b.Key.Target, b.Key.Direction, CircuitBreaker, state))));
}
