using System.Diagnostics;
using System.Diagnostics.Metrics;
using DaprShop.Sidecar.Hosting;

namespace DaprShop.Sidecar.Tracing;

/// <summary>
/// daprd's workflow metrics under its names and labels (dapr/dapr's pkg/diagnostics/workflow_monitoring.go), on the
/// meter of <see cref="SidecarMetrics"/>: the client operations (create, get, add an event, purge), each workflow
/// execution that ends or fails recoverably, the delay before a new instance's first turn, and each activity's run.
/// </summary>
public sealed class WorkflowMetrics
{
    // daprd's operation and status labels.
    public const string CreateWorkflow = "create_workflow";
    public const string GetWorkflow = "get_workflow";
    public const string AddEvent = "add_event";
    public const string PurgeWorkflow = "purge_workflow";
    public const string Success = "success";
    public const string Failed = "failed";
    public const string Recoverable = "recoverable";

    private readonly string _appId;
    private readonly string _namespace;
    private readonly Instruments _operation;
    private readonly Instruments _execution;
    private readonly Instruments _activity;
    private readonly Histogram<double> _scheduling;

    public WorkflowMetrics(IMeterFactory meters, SidecarOptions options)
    {
        _appId = options.AppId;
        _namespace = options.NamespaceOrDefault;
        var meter = meters.Create(SidecarMetrics.MeterName);
        _operation = Instruments.Pair(meter, "dapr_runtime_workflow_operation_count", "The number of successful/failed workflow operation requests.",
            "dapr_runtime_workflow_operation_latency", "The latencies of responses for workflow operation requests.");
        _execution = Instruments.Pair(meter, "dapr_runtime_workflow_execution_count", "The number of successful/failed/recoverable workflow executions.",
            "dapr_runtime_workflow_execution_latency", "The total time taken to run workflow to completion.");
        _activity = Instruments.Pair(meter, "dapr_runtime_workflow_activity_execution_count", "The number of successful/failed/recoverable activity executions.",
            "dapr_runtime_workflow_activity_execution_latency", "The total time taken to run an activity to completion.");
        _scheduling = Instruments.Histogram(meter, "dapr_runtime_workflow_scheduling_latency", "Interval between workflow execution request and workflow execution.");
    }

    /// <summary>Runs one client operation on the engine and records it: <see cref="Failed"/> when it throws.</summary>
    public Task<T> OperationAsync<T>(string operation, Func<Task<T>> call) =>
        _operation.MeasureAsync(call, (Metrics: this, Operation: operation), static (l, returned) => new TagList
        {
            { "app_id", l.Metrics._appId }, { "namespace", l.Metrics._namespace }, { "operation", l.Operation }, { "status", returned ? Success : Failed },
        });

    public Task OperationAsync(string operation, Func<Task> call) => OperationAsync(operation, async () => { await call(); return true; });

    /// <summary>
    /// An execution that finished (<see cref="Success"/> when completed; <see cref="Failed"/> when failed or
    /// terminated), with the time since its first turn; or one that failed recoverably (no latency, as in daprd).
    /// </summary>
    public void Execution(string workflowName, string status, TimeSpan? sinceFirstTurn) =>
        _execution.Record(new TagList { { "app_id", _appId }, { "namespace", _namespace }, { "workflow_name", workflowName }, { "status", status } }, sinceFirstTurn);

    /// <summary>A new instance's first turn sent to the worker: the time since it was due (created, or its scheduled start).</summary>
    public void Scheduling(string workflowName, TimeSpan sinceDue)
    {
        if (_scheduling.Enabled)
        {
            _scheduling.Record(Math.Max(0, sinceDue.TotalMilliseconds), new TagList { { "app_id", _appId }, { "namespace", _namespace }, { "workflow_name", workflowName } });
        }
    }

    /// <summary>
    /// An activity's run, from the work item sent to the worker to its result (<see cref="Recoverable"/>: handed back
    /// unfinished); counted without a latency when the result came for an item this sidecar did not send (it restarted).
    /// </summary>
    public void Activity(string activityName, string status, TimeSpan? elapsed) =>
        _activity.Record(new TagList { { "app_id", _appId }, { "namespace", _namespace }, { "activity_name", activityName }, { "status", status } }, elapsed);
}
