using Dapr.DurableTask.Protobuf;
using DaprShop.Sidecar.Runtime;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace DaprShop.Sidecar.Workflows;

/// <summary>
/// The gRPC service <c>TaskHubSidecarService</c> (no protobuf package) that Dapr.Workflow's worker and client
/// call on the Dapr gRPC port. Dapr.Workflow.Grpc ships the message types and a client stub only, so the
/// server side is bound here by hand; every handler only translates to <see cref="WorkflowEngine"/>.
/// </summary>
[BindServiceMethod(typeof(TaskHubGrpcService), nameof(BindService))]
public class TaskHubGrpcService(WorkflowEngine engine)
{
    public const string ServiceName = "TaskHubSidecarService";

    public static void BindService(ServiceBinderBase binder, TaskHubGrpcService? service)
    {
        Unary<Empty, Empty>(binder, nameof(Hello), service is null ? null : service.Hello);
        Unary<CreateInstanceRequest, CreateInstanceResponse>(binder, nameof(StartInstance), service is null ? null : service.StartInstance);
        Unary<GetInstanceRequest, GetInstanceResponse>(binder, nameof(GetInstance), service is null ? null : service.GetInstance);
        Unary<GetInstanceRequest, GetInstanceResponse>(binder, nameof(WaitForInstanceStart), service is null ? null : service.WaitForInstanceStart);
        Unary<GetInstanceRequest, GetInstanceResponse>(binder, nameof(WaitForInstanceCompletion), service is null ? null : service.WaitForInstanceCompletion);
        Unary<RaiseEventRequest, RaiseEventResponse>(binder, nameof(RaiseEvent), service is null ? null : service.RaiseEvent);
        Unary<TerminateRequest, TerminateResponse>(binder, nameof(TerminateInstance), service is null ? null : service.TerminateInstance);
        Unary<SuspendRequest, SuspendResponse>(binder, nameof(SuspendInstance), service is null ? null : service.SuspendInstance);
        Unary<ResumeRequest, ResumeResponse>(binder, nameof(ResumeInstance), service is null ? null : service.ResumeInstance);
        Unary<PurgeInstancesRequest, PurgeInstancesResponse>(binder, nameof(PurgeInstances), service is null ? null : service.PurgeInstances);
        Unary<ActivityResponse, CompleteTaskResponse>(binder, nameof(CompleteActivityTask), service is null ? null : service.CompleteActivityTask);
        Unary<WorkflowResponse, CompleteTaskResponse>(binder, nameof(CompleteOrchestratorTask), service is null ? null : service.CompleteOrchestratorTask);
        Unary<WorkflowResponse, CompleteTaskResponse>(binder, nameof(CompleteWorkflowTask), service is null ? null : service.CompleteWorkflowTask);
        Unary<RerunWorkflowFromEventRequest, RerunWorkflowFromEventResponse>(binder, nameof(RerunWorkflowFromEvent), service is null ? null : service.RerunWorkflowFromEvent);
        Unary<ListInstanceIDsRequest, ListInstanceIDsResponse>(binder, nameof(ListInstanceIDs), service is null ? null : service.ListInstanceIDs);
        Unary<GetInstanceHistoryRequest, GetInstanceHistoryResponse>(binder, nameof(GetInstanceHistory), service is null ? null : service.GetInstanceHistory);
        binder.AddMethod(
            new Method<GetWorkItemsRequest, WorkItem>(MethodType.ServerStreaming, ServiceName, nameof(GetWorkItems), Marshaller(GetWorkItemsRequest.Parser), Marshaller(WorkItem.Parser)),
            service is null ? null : (ServerStreamingServerMethod<GetWorkItemsRequest, WorkItem>)service.GetWorkItems);
    }

    private static Marshaller<T> Marshaller<T>(MessageParser<T> parser) where T : class, IMessage<T> =>
        Marshallers.Create(m => m.ToByteArray(), parser.ParseFrom);

    private static void Unary<TRequest, TResponse>(ServiceBinderBase binder, string name, UnaryServerMethod<TRequest, TResponse>? handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new()
    {
        var method = new Method<TRequest, TResponse>(MethodType.Unary, ServiceName, name,
            Marshaller(new MessageParser<TRequest>(() => new TRequest())), Marshaller(new MessageParser<TResponse>(() => new TResponse())));
        binder.AddMethod(method, handler);
    }

    public virtual Task<Empty> Hello(Empty request, ServerCallContext context) => Task.FromResult(new Empty());

    public virtual Task<CreateInstanceResponse> StartInstance(CreateInstanceRequest request, ServerCallContext context) =>
        Run(async () => new CreateInstanceResponse { InstanceId = await engine.StartInstanceAsync(request, context.CancellationToken) });

    public virtual Task<GetInstanceResponse> GetInstance(GetInstanceRequest request, ServerCallContext context) =>
        Run(() => engine.GetInstanceAsync(request.InstanceId, request.GetInputsAndOutputs, context.CancellationToken));

    public virtual Task<GetInstanceResponse> WaitForInstanceStart(GetInstanceRequest request, ServerCallContext context) =>
        Run(() => engine.WaitForInstanceAsync(request.InstanceId, request.GetInputsAndOutputs, completion: false, context.CancellationToken));

    public virtual Task<GetInstanceResponse> WaitForInstanceCompletion(GetInstanceRequest request, ServerCallContext context) =>
        Run(() => engine.WaitForInstanceAsync(request.InstanceId, request.GetInputsAndOutputs, completion: true, context.CancellationToken));

    public virtual Task<RaiseEventResponse> RaiseEvent(RaiseEventRequest request, ServerCallContext context) => Run(async () =>
    {
        await engine.RaiseEventAsync(request.InstanceId, request.Name, request.Input, context.CancellationToken);
        return new RaiseEventResponse();
    });

    public virtual Task<TerminateResponse> TerminateInstance(TerminateRequest request, ServerCallContext context) => Run(async () =>
    {
        await engine.TerminateAsync(request.InstanceId, request.Output, request.Recursive, context.CancellationToken);
        return new TerminateResponse();
    });

    public virtual Task<SuspendResponse> SuspendInstance(SuspendRequest request, ServerCallContext context) => Run(async () =>
    {
        await engine.SuspendAsync(request.InstanceId, request.Reason, context.CancellationToken);
        return new SuspendResponse();
    });

    public virtual Task<ResumeResponse> ResumeInstance(ResumeRequest request, ServerCallContext context) => Run(async () =>
    {
        await engine.ResumeAsync(request.InstanceId, request.Reason, context.CancellationToken);
        return new ResumeResponse();
    });

    public virtual Task<PurgeInstancesResponse> PurgeInstances(PurgeInstancesRequest request, ServerCallContext context) => Run(async () =>
    {
        if (request.RequestCase != PurgeInstancesRequest.RequestOneofCase.InstanceId)
        {
            // daprd's answer, a plain Go error (hence Unknown): its workflow engine purges by instance id only.
            throw new RpcException(new Status(StatusCode.Unknown, "multi-instance purge is not implemented"));
        }
        var count = await engine.PurgeAsync(request.InstanceId, request.Recursive, request.HasForce && request.Force, context.CancellationToken);
        return new PurgeInstancesResponse { DeletedInstanceCount = count, IsComplete = true };
    });

    public virtual Task<CompleteTaskResponse> CompleteActivityTask(ActivityResponse request, ServerCallContext context) => Run(async () =>
    {
        await engine.CompleteActivityAsync(request, context.CancellationToken);
        return new CompleteTaskResponse();
    });

    public virtual Task<CompleteTaskResponse> CompleteOrchestratorTask(WorkflowResponse request, ServerCallContext context) => Run(async () =>
    {
        await engine.CompleteWorkflowTurnAsync(request, context.CancellationToken);
        return new CompleteTaskResponse();
    });

    public virtual Task<CompleteTaskResponse> CompleteWorkflowTask(WorkflowResponse request, ServerCallContext context) =>
        CompleteOrchestratorTask(request, context);

    public virtual Task<RerunWorkflowFromEventResponse> RerunWorkflowFromEvent(RerunWorkflowFromEventRequest request, ServerCallContext context) =>
        Run(async () => new RerunWorkflowFromEventResponse { NewInstanceID = await engine.RerunAsync(request, context.CancellationToken) });

    public virtual Task<ListInstanceIDsResponse> ListInstanceIDs(ListInstanceIDsRequest request, ServerCallContext context) =>
        Run(() => Task.FromResult(engine.ListInstanceIds(request.HasContinuationToken ? request.ContinuationToken : null, request.HasPageSize ? (int)request.PageSize : 0)));

    public virtual Task<GetInstanceHistoryResponse> GetInstanceHistory(GetInstanceHistoryRequest request, ServerCallContext context) => Run(async () =>
    {
        var response = new GetInstanceHistoryResponse();
        response.Events.AddRange(await engine.GetHistoryAsync(request.InstanceId, context.CancellationToken));
        return response;
    });

    public virtual async Task GetWorkItems(GetWorkItemsRequest request, IServerStreamWriter<WorkItem> responseStream, ServerCallContext context)
    {
        await Run(async () =>
        {
            await engine.ServeWorkItemsAsync(responseStream, context.CancellationToken);
            return 0;
        });
    }

    private static async Task<T> Run<T>(Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (DaprApiException ex)
        {
            throw RichErrors.ToRpcException(ex);
        }
        catch (WorkflowException ex)
        {
            throw new RpcException(new Status(ex.Status, ex.Message));
        }
    }
}

/// <summary>An engine error with the gRPC status daprd's workflow API answers with.</summary>
public sealed class WorkflowException(StatusCode status, string message) : Exception(message)
{
    public StatusCode Status { get; } = status;
}
