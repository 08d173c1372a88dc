using System.Globalization;
using Dapr.Client.Autogen.Grpc.v1;
using Dapr.DurableTask.Protobuf;
using DaprShop.Sidecar.Runtime;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace DaprShop.Sidecar.Workflows;

/// <summary>
/// Dapr's own workflow API — <c>/v1.0*/workflows/{component}/...</c> over HTTP and the <c>*WorkflowBeta1</c>/<c>Alpha1</c>
/// calls of the Dapr gRPC service — over the same engine the durabletask protocol drives, with daprd's validation and
/// errors (<c>ERR_INSTANCE_ID_INVALID</c>, <c>ERR_START_WORKFLOW</c>, ...). The component name is not checked, as in
/// daprd, where <c>dapr</c> is the only workflow engine.
/// </summary>
public sealed class DaprWorkflowApi(WorkflowEngine engine)
{
    private const int MaxInstanceIdLength = 64;

    /// <summary>The start option that schedules the workflow for later (RFC 3339).</summary>
    public const string StartTimeOption = "dapr.workflow.start_time";

    public async Task<string> StartAsync(string? name, string? instanceId, string input, IReadOnlyDictionary<string, string> options, CancellationToken ct)
    {
        var id = string.IsNullOrEmpty(instanceId) ? Guid.NewGuid().ToString() : instanceId;
        if (id.Length > MaxInstanceIdLength)
        {
            throw Error(400, StatusCode.InvalidArgument, "ERR_INSTANCE_ID_TOO_LONG", $"workflow instance ID exceeds the max length of {MaxInstanceIdLength} characters");
        }
        if (!id.All(c => char.IsLetterOrDigit(c) || c is '_' or '-'))
        {
            throw Error(400, StatusCode.InvalidArgument, "ERR_INSTANCE_ID_INVALID", $"workflow instance ID '{id}' is invalid: only alphanumeric and underscore characters are allowed");
        }
        if (string.IsNullOrEmpty(name))
        {
            throw Error(400, StatusCode.InvalidArgument, "ERR_WORKFLOW_NAME_MISSING", "workflow name is not configured");
        }
        var request = new CreateInstanceRequest { InstanceId = id, Name = name, Input = input };
        if (options.TryGetValue(StartTimeOption, out var startTime) && !string.IsNullOrEmpty(startTime))
        {
            if (!DateTimeOffset.TryParse(startTime, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                throw Error(500, StatusCode.Internal, "ERR_START_WORKFLOW", $"error starting workflow '{name}': invalid start time '{startTime}'");
            }
            request.ScheduledStartTimestamp = Timestamp.FromDateTimeOffset(at);
        }
        return await Run(() => engine.StartInstanceAsync(request, ct), "ERR_START_WORKFLOW", $"error starting workflow '{name}'");
    }

    /// <summary>The instance as daprd describes it, or null when there is none.</summary>
    public async Task<GetWorkflowResponse?> GetAsync(string? instanceId, CancellationToken ct)
    {
        var id = RequireId(instanceId);
        var found = await Run(() => engine.GetInstanceAsync(id, withInputs: true, ct), "ERR_GET_WORKFLOW", $"error while getting workflow info on instance '{id}'");
        if (!found.Exists)
        {
            return null;
        }
        var state = found.WorkflowState;
        var response = new GetWorkflowResponse
        {
            InstanceId = state.InstanceId,
            WorkflowName = state.Name,
            CreatedAt = state.CreatedTimestamp,
            LastUpdatedAt = state.LastUpdatedTimestamp,
            RuntimeStatus = StatusName(state.WorkflowStatus),
        };
        if (state.Input is not null)
        {
            response.Properties["dapr.workflow.input"] = state.Input;
        }
        if (state.Output is not null)
        {
            response.Properties["dapr.workflow.output"] = state.Output;
        }
        if (state.CustomStatus is not null)
        {
            response.Properties["dapr.workflow.custom_status"] = state.CustomStatus;
        }
        if (state.FailureDetails is { } failure)
        {
            response.Properties["dapr.workflow.failure.error_type"] = failure.ErrorType;
            response.Properties["dapr.workflow.failure.error_message"] = failure.ErrorMessage;
        }
        return response;
    }

    public static DaprApiException NotFound(string id) =>
        Error(404, StatusCode.NotFound, "ERR_INSTANCE_ID_NOT_FOUND", $"unable to find workflow with the provided instance ID: {id}");

    public Task RaiseEventAsync(string? instanceId, string? eventName, string data, CancellationToken ct)
    {
        var id = RequireId(instanceId);
        if (string.IsNullOrEmpty(eventName))
        {
            throw Error(400, StatusCode.InvalidArgument, "ERR_WORKFLOW_EVENT_NAME_MISSING", "missing workflow event name");
        }
        return Run(async () => { await engine.RaiseEventAsync(id, eventName, data, ct); return 0; }, "ERR_RAISE_EVENT_WORKFLOW", $"error raising event on workflow '{id}'");
    }

    public Task TerminateAsync(string? instanceId, CancellationToken ct)
    {
        var id = RequireId(instanceId);
        // daprd terminates the whole tree, and reports an unknown id as not found.
        return Run(async () => { await engine.TerminateAsync(id, output: null, recursive: true, ct); return 0; }, "ERR_TERMINATE_WORKFLOW", $"error terminating workflow '{id}'", notFoundAs404: id);
    }

    public Task PauseAsync(string? instanceId, CancellationToken ct)
    {
        var id = RequireId(instanceId);
        return Run(async () => { await engine.SuspendAsync(id, reason: null, ct); return 0; }, "ERR_PAUSE_WORKFLOW", $"error pausing workflow {id}");
    }

    public Task ResumeAsync(string? instanceId, CancellationToken ct)
    {
        var id = RequireId(instanceId);
        return Run(async () => { await engine.ResumeAsync(id, reason: null, ct); return 0; }, "ERR_RESUME_WORKFLOW", $"error resuming workflow {id}");
    }

    public async Task PurgeAsync(string? instanceId, CancellationToken ct)
    {
        var id = RequireId(instanceId);
        var purged = await Run(() => engine.PurgeAsync(id, recursive: true, force: false, ct), "ERR_PURGE_WORKFLOW", $"error purging workflow {id}");
        if (purged == 0)
        {
            throw NotFound(id);
        }
    }

    /// <summary>durabletask's status names without their prefix, as daprd reports them.</summary>
    public static string StatusName(OrchestrationStatus status) => status switch
    {
        OrchestrationStatus.Running => "RUNNING",
        OrchestrationStatus.Completed => "COMPLETED",
        OrchestrationStatus.ContinuedAsNew => "CONTINUED_AS_NEW",
        OrchestrationStatus.Failed => "FAILED",
        OrchestrationStatus.Canceled => "CANCELED",
        OrchestrationStatus.Terminated => "TERMINATED",
        OrchestrationStatus.Pending => "PENDING",
        OrchestrationStatus.Suspended => "SUSPENDED",
        _ => "UNKNOWN",
    };

    private static string RequireId(string? instanceId) =>
        string.IsNullOrEmpty(instanceId)
            ? throw Error(400, StatusCode.InvalidArgument, "ERR_INSTANCE_ID_PROVIDED_MISSING", "no instance ID was provided")
            : instanceId;

    private static async Task<T> Run<T>(Func<Task<T>> action, string errorCode, string context, string? notFoundAs404 = null)
    {
        try
        {
            return await action();
        }
        catch (WorkflowException ex) when (notFoundAs404 is not null && ex.Status == StatusCode.NotFound)
        {
            throw NotFound(notFoundAs404);
        }
        catch (WorkflowException ex)
        {
            throw Error(500, StatusCode.Internal, errorCode, $"{context}: {ex.Message}");
        }
    }

    private static DaprApiException Error(int http, StatusCode grpc, string code, string message) => new(http, grpc, code, message);
}
