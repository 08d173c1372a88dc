using System.Diagnostics;
using System.Diagnostics.Metrics;
using DaprShop.Sidecar.Hosting;

namespace DaprShop.Sidecar.Tracing;

/// <summary>
/// daprd's actor metrics under its names and labels (dapr/dapr's pkg/diagnostics/service_monitoring.go), on the meter
/// of <see cref="SidecarMetrics"/>: timer and reminder callbacks fired, deactivations, and how many timers and
/// reminders this sidecar holds per actor type (gauges read from the actor runtime when an exporter collects).
/// </summary>
public sealed class ActorMetrics
{
    private readonly string _appId;
    private readonly Counter<long> _timersFired;
    private readonly Counter<long> _remindersFired;
    private readonly Counter<long> _deactivated;
    private readonly Counter<long> _deactivationFailed;
    private Func<IEnumerable<(string ActorType, int Count)>> _timers = () => [];
    private Func<IEnumerable<(string ActorType, int Count)>> _reminders = () => [];

    public ActorMetrics(IMeterFactory meters, SidecarOptions options)
    {
        _appId = options.AppId;
        var meter = meters.Create(SidecarMetrics.MeterName);
        _timersFired = meter.CreateCounter<long>("dapr_runtime_actor_timers_fired_total", description: "The number of actor timers fired requests.");
        _remindersFired = meter.CreateCounter<long>("dapr_runtime_actor_reminders_fired_total", description: "The number of actor reminders fired requests.");
        _deactivated = meter.CreateCounter<long>("dapr_runtime_actor_deactivated_total", description: "The number of the successful actor deactivation.");
        _deactivationFailed = meter.CreateCounter<long>("dapr_runtime_actor_deactivated_failed_total", description: "The number of the failed actor deactivation.");
        meter.CreateObservableGauge("dapr_runtime_actor_timers", () => Observe(_timers), unit: null, "The number of actor timer requests.");
        meter.CreateObservableGauge("dapr_runtime_actor_reminders", () => Observe(_reminders), unit: null, "The number of actor reminder requests.");
    }

    /// <summary>Where the timer gauge reads its counts (the actor runtime's activations).</summary>
    public void CountTimersWith(Func<IEnumerable<(string ActorType, int Count)>> source) => _timers = source;

    /// <summary>Where the reminder gauge reads its counts (the reminders this sidecar schedules).</summary>
    public void CountRemindersWith(Func<IEnumerable<(string ActorType, int Count)>> source) => _reminders = source;

    private IEnumerable<Measurement<long>> Observe(Func<IEnumerable<(string ActorType, int Count)>> source) =>
        source().Select(c => new Measurement<long>(c.Count, new TagList { { "app_id", _appId }, { "actor_type", c.ActorType } }));

    /// <summary>A timer's callback ran (<paramref name="success"/>: the app took it).</summary>
    public void TimerFired(string actorType, bool success) => _timersFired.Add(1, Fired(actorType, success));

    /// <summary>A reminder's callback ran, after its retries (<paramref name="success"/>: the app took it).</summary>
    public void ReminderFired(string actorType, bool success) => _remindersFired.Add(1, Fired(actorType, success));

    private TagList Fired(string actorType, bool success) => new() { { "app_id", _appId }, { "actor_type", actorType }, { "success", success ? "true" : "false" } };

    /// <summary>An activation ended: told to the app, or not (its <c>DELETE</c> failed or was refused).</summary>
    public void Deactivated(string actorType, bool success) =>
        (success ? _deactivated : _deactivationFailed).Add(1, new TagList { { "app_id", _appId }, { "actor_type", actorType } });
}
