using System.Net.Http.Headers;
using Dapr.Client.Autogen.Grpc.v1;
using DaprShop.Sidecar.Runtime;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using BulkStateItem = Dapr.Client.Autogen.Grpc.v1.BulkStateItem;
using ActorRuntime = Dapr.Client.Autogen.Grpc.v1.ActorRuntime;

namespace DaprShop.Sidecar.Grpc;

/// <summary>
/// The gRPC service <c>dapr.proto.runtime.v1.Dapr</c> over the message types of Dapr.Protos. That package ships
/// client stubs only, so <see cref="BindService"/> declares the server side itself; each method only translates
/// to the core shared with the HTTP API. Methods not bound here answer Unimplemented, which the SDKs expect.
/// </summary>
[BindServiceMethod(typeof(DaprGrpcService), nameof(BindService))]
public class DaprGrpcService(StateApi state, PubSubApi pubsub, Subscriptions subscriptions, BindingsApi bindings, SecretsApi secrets, MetadataApi metadata, InvocationApi invocation, SidecarState sidecar,
    Runtime.Actors.ActorRuntime actors, Runtime.Actors.ActorStateApi actorState, Runtime.Actors.ActorReminders reminders, ConfigurationApi configuration, LockApi locks,
    Workflows.DaprWorkflowApi workflows, Runtime.Jobs.JobsApi jobs)
{
    public const string ServiceName = "dapr.proto.runtime.v1.Dapr";

    public static void BindService(ServiceBinderBase binder, DaprGrpcService? service)
    {
        // Grpc.AspNetCore finds each handler by name: a public virtual method declared on the type that binds it.
        Add<GetStateRequest, GetStateResponse>(binder, nameof(GetState), GetStateRequest.Parser, service is null ? null : service.GetState);
        Add<GetBulkStateRequest, GetBulkStateResponse>(binder, nameof(GetBulkState), GetBulkStateRequest.Parser, service is null ? null : service.GetBulkState);
        Add<SaveStateRequest, Empty>(binder, nameof(SaveState), SaveStateRequest.Parser, service is null ? null : service.SaveState);
        Add<QueryStateRequest, QueryStateResponse>(binder, nameof(QueryStateAlpha1), QueryStateRequest.Parser, service is null ? null : service.QueryStateAlpha1);
        Add<DeleteStateRequest, Empty>(binder, nameof(DeleteState), DeleteStateRequest.Parser, service is null ? null : service.DeleteState);
        Add<DeleteBulkStateRequest, Empty>(binder, nameof(DeleteBulkState), DeleteBulkStateRequest.Parser, service is null ? null : service.DeleteBulkState);
        Add<ExecuteStateTransactionRequest, Empty>(binder, nameof(ExecuteStateTransaction), ExecuteStateTransactionRequest.Parser, service is null ? null : service.ExecuteStateTransaction);
        Add<PublishEventRequest, Empty>(binder, nameof(PublishEvent), PublishEventRequest.Parser, service is null ? null : service.PublishEvent);
        Add<BulkPublishRequest, BulkPublishResponse>(binder, nameof(BulkPublishEvent), BulkPublishRequest.Parser, service is null ? null : service.BulkPublishEvent);
        Add<BulkPublishRequest, BulkPublishResponse>(binder, nameof(BulkPublishEventAlpha1), BulkPublishRequest.Parser, service is null ? null : service.BulkPublishEventAlpha1);
        Add<InvokeBindingRequest, InvokeBindingResponse>(binder, nameof(InvokeBinding), InvokeBindingRequest.Parser, service is null ? null : service.InvokeBinding);
        Add<GetSecretRequest, GetSecretResponse>(binder, nameof(GetSecret), GetSecretRequest.Parser, service is null ? null : service.GetSecret);
        Add<GetBulkSecretRequest, GetBulkSecretResponse>(binder, nameof(GetBulkSecret), GetBulkSecretRequest.Parser, service is null ? null : service.GetBulkSecret);
        Add<GetConfigurationRequest, GetConfigurationResponse>(binder, nameof(GetConfiguration), GetConfigurationRequest.Parser, service is null ? null : service.GetConfiguration);
        Add<GetConfigurationRequest, GetConfigurationResponse>(binder, nameof(GetConfigurationAlpha1), GetConfigurationRequest.Parser, service is null ? null : service.GetConfigurationAlpha1);
        AddStream<SubscribeConfigurationRequest, SubscribeConfigurationResponse>(binder, nameof(SubscribeConfiguration), SubscribeConfigurationRequest.Parser, service is null ? null : service.SubscribeConfiguration);
        AddStream<SubscribeConfigurationRequest, SubscribeConfigurationResponse>(binder, nameof(SubscribeConfigurationAlpha1), SubscribeConfigurationRequest.Parser, service is null ? null : service.SubscribeConfigurationAlpha1);
        Add<UnsubscribeConfigurationRequest, UnsubscribeConfigurationResponse>(binder, nameof(UnsubscribeConfiguration), UnsubscribeConfigurationRequest.Parser, service is null ? null : service.UnsubscribeConfiguration);
        Add<UnsubscribeConfigurationRequest, UnsubscribeConfigurationResponse>(binder, nameof(UnsubscribeConfigurationAlpha1), UnsubscribeConfigurationRequest.Parser, service is null ? null : service.UnsubscribeConfigurationAlpha1);
        Add<ScheduleJobRequest, ScheduleJobResponse>(binder, nameof(ScheduleJob), ScheduleJobRequest.Parser, service is null ? null : service.ScheduleJob);
        Add<ScheduleJobRequest, ScheduleJobResponse>(binder, nameof(ScheduleJobAlpha1), ScheduleJobRequest.Parser, service is null ? null : service.ScheduleJobAlpha1);
        Add<GetJobRequest, GetJobResponse>(binder, nameof(GetJob), GetJobRequest.Parser, service is null ? null : service.GetJob);
        Add<GetJobRequest, GetJobResponse>(binder, nameof(GetJobAlpha1), GetJobRequest.Parser, service is null ? null : service.GetJobAlpha1);
        Add<DeleteJobRequest, DeleteJobResponse>(binder, nameof(DeleteJob), DeleteJobRequest.Parser, service is null ? null : service.DeleteJob);
        Add<DeleteJobRequest, DeleteJobResponse>(binder, nameof(DeleteJobAlpha1), DeleteJobRequest.Parser, service is null ? null : service.DeleteJobAlpha1);
        Add<DeleteJobsByPrefixRequest, DeleteJobsByPrefixResponse>(binder, nameof(DeleteJobsByPrefix), DeleteJobsByPrefixRequest.Parser, service is null ? null : service.DeleteJobsByPrefix);
        Add<DeleteJobsByPrefixRequestAlpha1, DeleteJobsByPrefixResponseAlpha1>(binder, nameof(DeleteJobsByPrefixAlpha1), DeleteJobsByPrefixRequestAlpha1.Parser, service is null ? null : service.DeleteJobsByPrefixAlpha1);
        Add<ListJobsRequest, ListJobsResponse>(binder, nameof(ListJobs), ListJobsRequest.Parser, service is null ? null : service.ListJobs);
        Add<ListJobsRequestAlpha1, ListJobsResponseAlpha1>(binder, nameof(ListJobsAlpha1), ListJobsRequestAlpha1.Parser, service is null ? null : service.ListJobsAlpha1);
        Add<TryLockRequest, TryLockResponse>(binder, nameof(TryLockAlpha1), TryLockRequest.Parser, service is null ? null : service.TryLockAlpha1);
        Add<UnlockRequest, UnlockResponse>(binder, nameof(UnlockAlpha1), UnlockRequest.Parser, service is null ? null : service.UnlockAlpha1);
        binder.AddMethod(MethodOf<SubscribeTopicEventsRequestAlpha1, SubscribeTopicEventsResponseAlpha1>(MethodType.DuplexStreaming, nameof(SubscribeTopicEventsAlpha1), SubscribeTopicEventsRequestAlpha1.Parser),
            service is null ? null : (DuplexStreamingServerMethod<SubscribeTopicEventsRequestAlpha1, SubscribeTopicEventsResponseAlpha1>)service.SubscribeTopicEventsAlpha1);
        Add<GetMetadataRequest, GetMetadataResponse>(binder, nameof(GetMetadata), GetMetadataRequest.Parser, service is null ? null : service.GetMetadata);
        Add<SetMetadataRequest, Empty>(binder, nameof(SetMetadata), SetMetadataRequest.Parser, service is null ? null : service.SetMetadata);
        Add<ShutdownRequest, Empty>(binder, nameof(Shutdown), ShutdownRequest.Parser, service is null ? null : service.Shutdown);
        Add<InvokeServiceRequest, InvokeResponse>(binder, nameof(InvokeService), InvokeServiceRequest.Parser, service is null ? null : service.InvokeService);
        Add<InvokeActorRequest, InvokeActorResponse>(binder, nameof(InvokeActor), InvokeActorRequest.Parser, service is null ? null : service.InvokeActor);
        Add<GetActorStateRequest, GetActorStateResponse>(binder, nameof(GetActorState), GetActorStateRequest.Parser, service is null ? null : service.GetActorState);
        Add<ExecuteActorStateTransactionRequest, Empty>(binder, nameof(ExecuteActorStateTransaction), ExecuteActorStateTransactionRequest.Parser, service is null ? null : service.ExecuteActorStateTransaction);
        Add<RegisterActorTimerRequest, Empty>(binder, nameof(RegisterActorTimer), RegisterActorTimerRequest.Parser, service is null ? null : service.RegisterActorTimer);
        Add<UnregisterActorTimerRequest, Empty>(binder, nameof(UnregisterActorTimer), UnregisterActorTimerRequest.Parser, service is null ? null : service.UnregisterActorTimer);
        Add<RegisterActorReminderRequest, Empty>(binder, nameof(RegisterActorReminder), RegisterActorReminderRequest.Parser, service is null ? null : service.RegisterActorReminder);
        Add<UnregisterActorReminderRequest, Empty>(binder, nameof(UnregisterActorReminder), UnregisterActorReminderRequest.Parser, service is null ? null : service.UnregisterActorReminder);
        Add<GetActorReminderRequest, GetActorReminderResponse>(binder, nameof(GetActorReminder), GetActorReminderRequest.Parser, service is null ? null : service.GetActorReminder);
        Add<ListActorRemindersRequest, ListActorRemindersResponse>(binder, nameof(ListActorReminders), ListActorRemindersRequest.Parser, service is null ? null : service.ListActorReminders);
        Add<UnregisterActorRemindersByTypeRequest, UnregisterActorRemindersByTypeResponse>(binder, nameof(UnregisterActorRemindersByType), UnregisterActorRemindersByTypeRequest.Parser, service is null ? null : service.UnregisterActorRemindersByType);
        Add<StartWorkflowRequest, StartWorkflowResponse>(binder, nameof(StartWorkflowAlpha1), StartWorkflowRequest.Parser, service is null ? null : service.StartWorkflowAlpha1);
        Add<GetWorkflowRequest, GetWorkflowResponse>(binder, nameof(GetWorkflowAlpha1), GetWorkflowRequest.Parser, service is null ? null : service.GetWorkflowAlpha1);
        Add<TerminateWorkflowRequest, Empty>(binder, nameof(TerminateWorkflowAlpha1), TerminateWorkflowRequest.Parser, service is null ? null : service.TerminateWorkflowAlpha1);
        Add<RaiseEventWorkflowRequest, Empty>(binder, nameof(RaiseEventWorkflowAlpha1), RaiseEventWorkflowRequest.Parser, service is null ? null : service.RaiseEventWorkflowAlpha1);
        Add<PauseWorkflowRequest, Empty>(binder, nameof(PauseWorkflowAlpha1), PauseWorkflowRequest.Parser, service is null ? null : service.PauseWorkflowAlpha1);
        Add<ResumeWorkflowRequest, Empty>(binder, nameof(ResumeWorkflowAlpha1), ResumeWorkflowRequest.Parser, service is null ? null : service.ResumeWorkflowAlpha1);
        Add<PurgeWorkflowRequest, Empty>(binder, nameof(PurgeWorkflowAlpha1), PurgeWorkflowRequest.Parser, service is null ? null : service.PurgeWorkflowAlpha1);
        Add<StartWorkflowRequest, StartWorkflowResponse>(binder, nameof(StartWorkflowBeta1), StartWorkflowRequest.Parser, service is null ? null : service.StartWorkflowBeta1);
        Add<GetWorkflowRequest, GetWorkflowResponse>(binder, nameof(GetWorkflowBeta1), GetWorkflowRequest.Parser, service is null ? null : service.GetWorkflowBeta1);
        Add<TerminateWorkflowRequest, Empty>(binder, nameof(TerminateWorkflowBeta1), TerminateWorkflowRequest.Parser, service is null ? null : service.TerminateWorkflowBeta1);
        Add<RaiseEventWorkflowRequest, Empty>(binder, nameof(RaiseEventWorkflowBeta1), RaiseEventWorkflowRequest.Parser, service is null ? null : service.RaiseEventWorkflowBeta1);
        Add<PauseWorkflowRequest, Empty>(binder, nameof(PauseWorkflowBeta1), PauseWorkflowRequest.Parser, service is null ? null : service.PauseWorkflowBeta1);
        Add<ResumeWorkflowRequest, Empty>(binder, nameof(ResumeWorkflowBeta1), ResumeWorkflowRequest.Parser, service is null ? null : service.ResumeWorkflowBeta1);
        Add<PurgeWorkflowRequest, Empty>(binder, nameof(PurgeWorkflowBeta1), PurgeWorkflowRequest.Parser, service is null ? null : service.PurgeWorkflowBeta1);
    }

    private static void Add<TRequest, TResponse>(ServiceBinderBase binder, string name, MessageParser<TRequest> parser, UnaryServerMethod<TRequest, TResponse>? handler)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        binder.AddMethod(MethodOf<TRequest, TResponse>(MethodType.Unary, name, parser), handler);

    private static void AddStream<TRequest, TResponse>(ServiceBinderBase binder, string name, MessageParser<TRequest> parser, ServerStreamingServerMethod<TRequest, TResponse>? handler)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        binder.AddMethod(MethodOf<TRequest, TResponse>(MethodType.ServerStreaming, name, parser), handler);

    private static Method<TRequest, TResponse> MethodOf<TRequest, TResponse>(MethodType type, string name, MessageParser<TRequest> parser)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        var responseParser = (MessageParser)typeof(TResponse).GetProperty("Parser")!.GetValue(null)!;
        return new Method<TRequest, TResponse>(
            type, ServiceName, name,
            Marshallers.Create(m => m.ToByteArray(), parser.ParseFrom),
            Marshallers.Create(m => m.ToByteArray(), b => (TResponse)responseParser.ParseFrom(b)));
    }

    /// <summary>
    /// A streaming subscription, served as daprd serves it: the first message must name the pubsub and topic (else
    /// the stream ends with Unknown and daprd's message); once subscribed the sidecar answers with an initial
    /// response, then sends the topic's events and reads the app's answers until the app ends the stream. Events
    /// still unanswered then are handed back to the broker (or the dead-letter topic), as any failed delivery.
    /// </summary>
    public virtual async Task SubscribeTopicEventsAlpha1(
        IAsyncStreamReader<SubscribeTopicEventsRequestAlpha1> requests, IServerStreamWriter<SubscribeTopicEventsResponseAlpha1> responses, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        if (!await requests.MoveNext(ct))
        {
            return;
        }
        var initial = requests.Current.InitialRequest ?? throw Unknown("initial request is required");
        if (initial.PubsubName.Length == 0)
        {
            throw Unknown("pubsubName is required");
        }
        if (initial.Topic.Length == 0)
        {
            throw Unknown("topic is required");
        }
        using var writes = new SemaphoreSlim(1, 1);
        using var closed = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var stream = new TopicStream(async (message, c) =>
        {
            await writes.WaitAsync(c);
            try
            {
                await responses.WriteAsync(new SubscribeTopicEventsResponseAlpha1 { EventMessage = message }, c);
            }
            finally
            {
                writes.Release();
            }
        }, closed.Token);

        // No event may go out before the initial response: the writer is held until it has been sent.
        await writes.WaitAsync(ct);
        IAsyncDisposable? subscription = null;
        try
        {
            try
            {
                subscription = await Run(() => subscriptions.OpenStreamAsync(initial, stream, ct));
                await responses.WriteAsync(new SubscribeTopicEventsResponseAlpha1 { InitialResponse = new SubscribeTopicEventsResponseInitialAlpha1() }, ct);
            }
            finally
            {
                writes.Release();
            }
            while (await requests.MoveNext(ct))
            {
                var processed = requests.Current.EventProcessed ?? throw Unknown("duplicate initial request received");
                // An answer for an event no longer awaited (already timed out or retried) is ignored, as in daprd.
                stream.Processed(processed.Id, processed.Status?.Status ?? default);
            }
        }
        finally
        {
            await closed.CancelAsync();
            if (subscription is not null)
            {
                await subscription.DisposeAsync();
            }
        }
    }

    private static RpcException Unknown(string message) => new(new Status(StatusCode.Unknown, message));

    public virtual Task<GetConfigurationResponse> GetConfiguration(GetConfigurationRequest request, ServerCallContext context) => Run(async () =>
    {
        var items = await configuration.GetAsync(request.StoreName, [.. request.Keys], request.Metadata, context.CancellationToken);
        var response = new GetConfigurationResponse();
        foreach (var (key, item) in items)
        {
            response.Items[key] = ToProto(item);
        }
        return response;
    });

    /// <summary>The first message carries the subscription's id; each change follows; the stream ends with an unsubscribe or the caller.</summary>
    public virtual async Task SubscribeConfiguration(SubscribeConfigurationRequest request, IServerStreamWriter<SubscribeConfigurationResponse> stream, ServerCallContext context)
    {
        using var writes = new SemaphoreSlim(1, 1);
        var id = await Run(() => configuration.SubscribeAsync(request.StoreName, [.. request.Keys], request.Metadata, async (subscription, items, ct) =>
        {
            var update = new SubscribeConfigurationResponse { Id = subscription };
            foreach (var (key, item) in items)
            {
                update.Items[key] = ToProto(item);
            }
            await writes.WaitAsync(ct);
            try
            {
                await stream.WriteAsync(update, ct);
            }
            finally
            {
                writes.Release();
            }
        }, context.CancellationToken));
        await writes.WaitAsync(context.CancellationToken);
        try
        {
            await stream.WriteAsync(new SubscribeConfigurationResponse { Id = id });
        }
        finally
        {
            writes.Release();
        }
        try
        {
            await configuration.EndedAsync(id).WaitAsync(context.CancellationToken); // an unsubscribe by id ends the stream, as in daprd
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            await configuration.EndAsync(id);
        }
    }

    public virtual Task<UnsubscribeConfigurationResponse> UnsubscribeConfiguration(UnsubscribeConfigurationRequest request, ServerCallContext context) => Run(async () =>
    {
        await configuration.UnsubscribeAsync(request.StoreName, request.Id);
        return new UnsubscribeConfigurationResponse { Ok = true };
    });

    // The alpha names of the same calls, which older SDKs use.
    public virtual Task<GetConfigurationResponse> GetConfigurationAlpha1(GetConfigurationRequest request, ServerCallContext context) => GetConfiguration(request, context);

    public virtual Task SubscribeConfigurationAlpha1(SubscribeConfigurationRequest request, IServerStreamWriter<SubscribeConfigurationResponse> stream, ServerCallContext context) =>
        SubscribeConfiguration(request, stream, context);

    public virtual Task<UnsubscribeConfigurationResponse> UnsubscribeConfigurationAlpha1(UnsubscribeConfigurationRequest request, ServerCallContext context) => UnsubscribeConfiguration(request, context);

    public virtual Task<TryLockResponse> TryLockAlpha1(TryLockRequest request, ServerCallContext context) => Run(async () =>
        new TryLockResponse { Success = await locks.TryLockAsync(request.StoreName, request.ResourceId, request.LockOwner, request.ExpiryInSeconds, context.CancellationToken) });

    public virtual Task<UnlockResponse> UnlockAlpha1(UnlockRequest request, ServerCallContext context) => Run(async () =>
        new UnlockResponse { Status = (UnlockResponse.Types.Status)(int)await locks.UnlockAsync(request.StoreName, request.ResourceId, request.LockOwner, context.CancellationToken) });

    // ---------------------------------------------------------------- jobs (stable and Alpha1 alike, as in daprd)

    public virtual Task<ScheduleJobResponse> ScheduleJob(ScheduleJobRequest request, ServerCallContext context) => Run(() =>
    {
        jobs.Schedule(request.Job, request.Overwrite);
        return Task.FromResult(new ScheduleJobResponse());
    });

    public virtual Task<ScheduleJobResponse> ScheduleJobAlpha1(ScheduleJobRequest request, ServerCallContext context) => ScheduleJob(request, context);

    public virtual Task<GetJobResponse> GetJob(GetJobRequest request, ServerCallContext context) => Run(() =>
        Task.FromResult(new GetJobResponse { Job = jobs.Get(request.Name) }));

    public virtual Task<GetJobResponse> GetJobAlpha1(GetJobRequest request, ServerCallContext context) => GetJob(request, context);

    public virtual Task<DeleteJobResponse> DeleteJob(DeleteJobRequest request, ServerCallContext context) => Run(() =>
    {
        jobs.Delete(request.Name);
        return Task.FromResult(new DeleteJobResponse());
    });

    public virtual Task<DeleteJobResponse> DeleteJobAlpha1(DeleteJobRequest request, ServerCallContext context) => DeleteJob(request, context);

    public virtual Task<DeleteJobsByPrefixResponse> DeleteJobsByPrefix(DeleteJobsByPrefixRequest request, ServerCallContext context) => Run(() =>
    {
        jobs.DeleteByPrefix(request.HasNamePrefix ? request.NamePrefix : null);
        return Task.FromResult(new DeleteJobsByPrefixResponse());
    });

    public virtual Task<DeleteJobsByPrefixResponseAlpha1> DeleteJobsByPrefixAlpha1(DeleteJobsByPrefixRequestAlpha1 request, ServerCallContext context) => Run(() =>
    {
        jobs.DeleteByPrefix(request.HasNamePrefix ? request.NamePrefix : null);
        return Task.FromResult(new DeleteJobsByPrefixResponseAlpha1());
    });

    public virtual Task<ListJobsResponse> ListJobs(ListJobsRequest request, ServerCallContext context) => Run(() =>
        Task.FromResult(new ListJobsResponse { Jobs = { jobs.List() } }));

    public virtual Task<ListJobsResponseAlpha1> ListJobsAlpha1(ListJobsRequestAlpha1 request, ServerCallContext context) => Run(() =>
        Task.FromResult(new ListJobsResponseAlpha1 { Jobs = { jobs.List() } }));

    private static ConfigurationItem ToProto(Components.Configuration.ConfigurationItem item)
    {
        var proto = new ConfigurationItem { Value = item.Value, Version = item.Version };
        proto.Metadata.Add(Map(item.Metadata));
        return proto;
    }

    public virtual Task<GetStateResponse> GetState(GetStateRequest request, ServerCallContext context) => Run(async () =>
    {
        var result = await state.GetAsync(request.StoreName, request.Key, request.Metadata, context.CancellationToken);
        var response = new GetStateResponse();
        if (result is not null)
        {
            response.Data = ByteString.CopyFrom(result.Value);
            response.Etag = result.ETag;
            response.Metadata.Add(Map(result.Metadata));
        }
        return response;
    });

    public virtual Task<GetBulkStateResponse> GetBulkState(GetBulkStateRequest request, ServerCallContext context) => Run(async () =>
    {
        var items = await state.GetBulkAsync(request.StoreName, request.Keys, request.Parallelism, request.Metadata, context.CancellationToken);
        var response = new GetBulkStateResponse();
        foreach (var item in items)
        {
            var bulk = new BulkStateItem { Key = item.Key, Etag = item.ETag ?? "", Error = item.Error ?? "" };
            if (item.Value is not null)
            {
                bulk.Data = ByteString.CopyFrom(item.Value);
            }
            bulk.Metadata.Add(Map(item.Metadata));
            response.Items.Add(bulk);
        }
        return response;
    });

    public virtual Task<Empty> SaveState(SaveStateRequest request, ServerCallContext context) => Run(async () =>
    {
        await state.SaveAsync(request.StoreName, request.States.Select(ToInput).ToList(), context.CancellationToken);
        return new Empty();
    });

    public virtual Task<QueryStateResponse> QueryStateAlpha1(QueryStateRequest request, ServerCallContext context) => Run(async () =>
    {
        var (items, token) = await state.QueryAsync(request.StoreName, System.Text.Encoding.UTF8.GetBytes(request.Query), context.CancellationToken);
        var response = new QueryStateResponse { Token = token ?? "" };
        response.Results.AddRange(items.Select(i => new QueryStateItem { Key = i.Key, Data = ByteString.CopyFrom(i.Value), Etag = i.ETag }));
        return response;
    });

    public virtual Task<Empty> DeleteState(DeleteStateRequest request, ServerCallContext context) => Run(async () =>
    {
        await state.DeleteAsync(request.StoreName, request.Key, request.Etag?.Value, ConcurrencyName(request.Options), request.Metadata, context.CancellationToken);
        return new Empty();
    });

    public virtual Task<Empty> DeleteBulkState(DeleteBulkStateRequest request, ServerCallContext context) => Run(async () =>
    {
        await state.DeleteBulkAsync(request.StoreName, request.States.Select(ToInput).ToList(), context.CancellationToken);
        return new Empty();
    });

    public virtual Task<Empty> ExecuteStateTransaction(ExecuteStateTransactionRequest request, ServerCallContext context) => Run(async () =>
    {
        var ops = request.Operations.Select(o => new TransactionInput(o.OperationType, ToInput(o.Request ?? new StateItem()))).ToList();
        await state.TransactAsync(request.StoreName, ops, request.Metadata, context.CancellationToken);
        return new Empty();
    });

    public virtual Task<Empty> PublishEvent(PublishEventRequest request, ServerCallContext context) => Run(async () =>
    {
        await pubsub.PublishAsync(request.PubsubName, request.Topic, request.Data.ToByteArray(), request.DataContentType, request.Metadata, context.CancellationToken);
        return new Empty();
    });

    public virtual Task<BulkPublishResponse> BulkPublishEvent(BulkPublishRequest request, ServerCallContext context) => Run(async () =>
    {
        var entries = request.Entries.Select(e => new BulkPublishEntry(e.EntryId, e.Event.ToByteArray(), e.ContentType, e.Metadata.Count > 0 ? e.Metadata : null)).ToList();
        var failures = await pubsub.BulkPublishAsync(request.PubsubName, request.Topic, entries, request.Metadata, context.CancellationToken);
        var response = new BulkPublishResponse();
        response.FailedEntries.AddRange(failures.Select(f => new BulkPublishResponseFailedEntry { EntryId = f.EntryId, Error = f.Error }));
        return response;
    });

    public virtual Task<BulkPublishResponse> BulkPublishEventAlpha1(BulkPublishRequest request, ServerCallContext context) => BulkPublishEvent(request, context);

    public virtual Task<InvokeBindingResponse> InvokeBinding(InvokeBindingRequest request, ServerCallContext context) => Run(async () =>
    {
        var result = await bindings.InvokeAsync(request.Name, request.Operation, request.Data.ToByteArray(), request.Metadata, context.CancellationToken);
        var response = new InvokeBindingResponse { Data = result.Data is null ? ByteString.Empty : ByteString.CopyFrom(result.Data) };
        response.Metadata.Add(Map(result.Metadata));
        return response;
    });

    public virtual Task<GetSecretResponse> GetSecret(GetSecretRequest request, ServerCallContext context) => Run(async () =>
    {
        var secret = await secrets.GetAsync(request.StoreName, request.Key, request.Metadata, context.CancellationToken);
        var response = new GetSecretResponse();
        response.Data.Add(Map(secret));
        return response;
    });

    public virtual Task<GetBulkSecretResponse> GetBulkSecret(GetBulkSecretRequest request, ServerCallContext context) => Run(async () =>
    {
        var all = await secrets.GetBulkAsync(request.StoreName, request.Metadata, context.CancellationToken);
        var response = new GetBulkSecretResponse();
        foreach (var (name, values) in all)
        {
            var item = new SecretResponse();
            item.Secrets.Add(Map(values));
            response.Data.Add(name, item);
        }
        return response;
    });

    public virtual Task<GetMetadataResponse> GetMetadata(GetMetadataRequest request, ServerCallContext context) => Run(() =>
    {
        var m = metadata.Get();
        var response = new GetMetadataResponse
        {
            Id = m.Id,
            RuntimeVersion = m.RuntimeVersion,
            AppConnectionProperties = new AppConnectionProperties
            {
                Port = m.AppConnectionProperties.Port,
                Protocol = m.AppConnectionProperties.Protocol,
                ChannelAddress = m.AppConnectionProperties.ChannelAddress,
                MaxConcurrency = m.AppConnectionProperties.MaxConcurrency,
            },
            ActorRuntime = new ActorRuntime
            {
                RuntimeStatus = m.ActorRuntime.RuntimeStatus == "RUNNING" ? ActorRuntime.Types.ActorRuntimeStatus.Running : ActorRuntime.Types.ActorRuntimeStatus.Disabled,
                HostReady = m.ActorRuntime.HostReady,
            },
        };
        response.ActorRuntime.ActiveActors.AddRange(m.ActorRuntime.ActiveActors.Select(a => new ActiveActorsCount { Type = a.Type, Count = a.Count }));
        response.Workflows = new MetadataWorkflows { ConnectedWorkers = m.Workflows.ConnectedWorkers };
        if (m.AppConnectionProperties.Health is { } health)
        {
            response.AppConnectionProperties.Health = new AppConnectionHealthProperties
            {
                HealthCheckPath = health.HealthCheckPath,
                HealthProbeInterval = health.HealthProbeInterval,
                HealthProbeTimeout = health.HealthProbeTimeout,
                HealthThreshold = health.HealthThreshold,
            };
        }
        response.ExtendedMetadata.Add(Map(m.Extended));
        response.EnabledFeatures.AddRange(m.EnabledFeatures);
        foreach (var c in m.Components)
        {
            var rc = new RegisteredComponents { Name = c.Name, Type = c.Type, Version = c.Version };
            rc.Capabilities.AddRange(c.Capabilities ?? []);
            response.RegisteredComponents.Add(rc);
        }
        foreach (var s in m.Subscriptions)
        {
            var ps = new PubsubSubscription { PubsubName = s.PubSubName, Topic = s.Topic, DeadLetterTopic = s.DeadLetterTopic, Type = s.Type switch
            {
                "DECLARATIVE" => PubsubSubscriptionType.Declarative,
                "STREAMING" => PubsubSubscriptionType.Streaming,
                _ => PubsubSubscriptionType.Programmatic,
            } };
            if (s.Metadata is not null)
            {
                ps.Metadata.Add(Map(s.Metadata));
            }
            if (s.Rules is not null)
            {
                ps.Rules = new PubsubSubscriptionRules();
                ps.Rules.Rules.AddRange(s.Rules.Select(r => new PubsubSubscriptionRule { Match = r.Match ?? "", Path = r.Path }));
            }
            response.Subscriptions.Add(ps);
        }
        return Task.FromResult(response);
    });

    public virtual Task<Empty> SetMetadata(SetMetadataRequest request, ServerCallContext context) => Run(() =>
    {
        metadata.Set(request.Key, request.Value);
        return Task.FromResult(new Empty());
    });

    public virtual Task<Empty> Shutdown(ShutdownRequest request, ServerCallContext context)
    {
        sidecar.ShutdownRequested.Cancel();
        return Task.FromResult(new Empty());
    }

    /// <summary>
    /// gRPC invocation of an HTTP app: the verb and query come from <c>http_extension</c> (POST when absent); the
    /// answer comes back as daprd's <c>InvokeService</c> gives it (<see cref="HttpAppAnswer"/>).
    /// </summary>
    public virtual Task<InvokeResponse> InvokeService(InvokeServiceRequest request, ServerCallContext context) => Run(async () =>
    {
        var message = request.Message ?? new InvokeRequest();
        var verb = message.HttpExtension?.Verb is { } v && v != HTTPExtension.Types.Verb.None ? v.ToString().ToUpperInvariant() : "POST";
        var query = message.HttpExtension?.Querystring is { Length: > 0 } q ? "?" + q : "";
        using var http = new HttpRequestMessage(new HttpMethod(verb), new Uri("/" + InvocationApi.NormalizeMethod(request.Id, message.Method) + query, UriKind.Relative));
        if (message.Data is { Value.Length: > 0 } data)
        {
            http.Content = new ByteArrayContent(data.Value.ToByteArray());
            if (!string.IsNullOrEmpty(message.ContentType))
            {
                http.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(message.ContentType);
            }
        }
        foreach (var header in context.RequestHeaders)
        {
            if (!header.IsBinary && !header.Key.StartsWith(':') && !header.Key.StartsWith("grpc-", StringComparison.Ordinal) && header.Key is not ("content-type" or "te" or "user-agent") && !InvocationApi.IsHopByHop(header.Key))
            {
                http.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }
        using var response = await invocation.InvokeAsync(request.Id, http, context.CancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(context.CancellationToken);
        var status = (int)response.StatusCode;
        // daprd sends the app's headers (and its HTTP status) as response headers, on success and on failure alike.
        await context.WriteResponseHeadersAsync(HttpAppAnswer.Headers(response));
        if (HttpAppAnswer.Code(status) != StatusCode.OK)
        {
            throw HttpAppAnswer.Error(status, body);
        }
        return new InvokeResponse
        {
            Data = new Any { Value = ByteString.CopyFrom(body) },
            ContentType = response.Content.Headers.ContentType?.ToString() ?? "",
        };
    });

    // ---------------------------------------------------------------- workflows (Dapr's own API over the engine)

    public virtual Task<StartWorkflowResponse> StartWorkflowAlpha1(StartWorkflowRequest request, ServerCallContext context) => StartWorkflow(request, context);

    public virtual Task<GetWorkflowResponse> GetWorkflowAlpha1(GetWorkflowRequest request, ServerCallContext context) => GetWorkflow(request, context);

    public virtual Task<Empty> TerminateWorkflowAlpha1(TerminateWorkflowRequest request, ServerCallContext context) => Workflow(() => workflows.TerminateAsync(request.InstanceId, context.CancellationToken));

    public virtual Task<Empty> RaiseEventWorkflowAlpha1(RaiseEventWorkflowRequest request, ServerCallContext context) =>
        Workflow(() => workflows.RaiseEventAsync(request.InstanceId, request.EventName, request.EventData.ToStringUtf8(), context.CancellationToken));

    public virtual Task<Empty> PauseWorkflowAlpha1(PauseWorkflowRequest request, ServerCallContext context) => Workflow(() => workflows.PauseAsync(request.InstanceId, context.CancellationToken));

    public virtual Task<Empty> ResumeWorkflowAlpha1(ResumeWorkflowRequest request, ServerCallContext context) => Workflow(() => workflows.ResumeAsync(request.InstanceId, context.CancellationToken));

    public virtual Task<Empty> PurgeWorkflowAlpha1(PurgeWorkflowRequest request, ServerCallContext context) => Workflow(() => workflows.PurgeAsync(request.InstanceId, context.CancellationToken));

    public virtual Task<StartWorkflowResponse> StartWorkflowBeta1(StartWorkflowRequest request, ServerCallContext context) => StartWorkflow(request, context);

    public virtual Task<GetWorkflowResponse> GetWorkflowBeta1(GetWorkflowRequest request, ServerCallContext context) => GetWorkflow(request, context);

    public virtual Task<Empty> TerminateWorkflowBeta1(TerminateWorkflowRequest request, ServerCallContext context) => Workflow(() => workflows.TerminateAsync(request.InstanceId, context.CancellationToken));

    public virtual Task<Empty> RaiseEventWorkflowBeta1(RaiseEventWorkflowRequest request, ServerCallContext context) =>
        Workflow(() => workflows.RaiseEventAsync(request.InstanceId, request.EventName, request.EventData.ToStringUtf8(), context.CancellationToken));

    public virtual Task<Empty> PauseWorkflowBeta1(PauseWorkflowRequest request, ServerCallContext context) => Workflow(() => workflows.PauseAsync(request.InstanceId, context.CancellationToken));

    public virtual Task<Empty> ResumeWorkflowBeta1(ResumeWorkflowRequest request, ServerCallContext context) => Workflow(() => workflows.ResumeAsync(request.InstanceId, context.CancellationToken));

    public virtual Task<Empty> PurgeWorkflowBeta1(PurgeWorkflowRequest request, ServerCallContext context) => Workflow(() => workflows.PurgeAsync(request.InstanceId, context.CancellationToken));

    private Task<StartWorkflowResponse> StartWorkflow(StartWorkflowRequest request, ServerCallContext context) => Run(async () =>
        new StartWorkflowResponse
        {
            InstanceId = await workflows.StartAsync(request.WorkflowName, request.InstanceId, request.Input.ToStringUtf8(),
                new Dictionary<string, string>(request.Options), context.CancellationToken),
        });

    // As daprd: an unknown id is not an error here, only an answer that carries nothing but the id.
    private Task<GetWorkflowResponse> GetWorkflow(GetWorkflowRequest request, ServerCallContext context) => Run(async () =>
        await workflows.GetAsync(request.InstanceId, context.CancellationToken) ?? new GetWorkflowResponse { InstanceId = request.InstanceId });

    private static Task<Empty> Workflow(Func<Task> action) => Run(async () =>
    {
        await action();
        return new Empty();
    });

    // ---------------------------------------------------------------- actors

    public virtual Task<InvokeActorResponse> InvokeActor(InvokeActorRequest request, ServerCallContext context) => Run(async () =>
    {
        var headers = request.Metadata.Select(m => new KeyValuePair<string, string[]>(m.Key, [m.Value])).ToList();
        var call = new Runtime.Actors.ActorCall(request.ActorType, request.ActorId, request.Method, headers, request.Data.ToByteArray(), "application/json");
        var response = await actors.InvokeAsync(call, context.CancellationToken);
        if (response.HasHeader(Runtime.Actors.ActorHeaders.ErrorResponse))
        {
            throw new RpcException(new Status(StatusCode.Internal, System.Text.Encoding.UTF8.GetString(response.Body)));
        }
        return new InvokeActorResponse { Data = ByteString.CopyFrom(response.Body) };
    });

    public virtual Task<GetActorStateResponse> GetActorState(GetActorStateRequest request, ServerCallContext context) => Run(async () =>
    {
        var result = await actorState.GetAsync(request.ActorType, request.ActorId, request.Key, context.CancellationToken);
        var response = new GetActorStateResponse();
        if (result is not null)
        {
            response.Data = ByteString.CopyFrom(result.Value);
            response.Metadata.Add(Map(result.Metadata));
        }
        return response;
    });

    public virtual Task<Empty> ExecuteActorStateTransaction(ExecuteActorStateTransactionRequest request, ServerCallContext context) => Run(async () =>
    {
        var ops = request.Operations.Select(o => new Runtime.Actors.ActorStateOperation(
            o.OperationType, o.Key, o.Value?.Value.ToByteArray(), new Dictionary<string, string>(o.Metadata))).ToList();
        await actorState.TransactAsync(request.ActorType, request.ActorId, ops, context.CancellationToken);
        return new Empty();
    });

    public virtual Task<Empty> RegisterActorTimer(RegisterActorTimerRequest request, ServerCallContext context) => Run(() =>
    {
        actors.CreateTimer(request.ActorType, request.ActorId, request.Name, new Runtime.Actors.ActorTimerRequest(
            request.DueTime, request.Period, request.Ttl, request.Callback, BytesAsJson(request.Data)));
        return Task.FromResult(new Empty());
    });

    public virtual Task<Empty> UnregisterActorTimer(UnregisterActorTimerRequest request, ServerCallContext context) => Run(() =>
    {
        actors.DeleteTimer(request.ActorType, request.ActorId, request.Name);
        return Task.FromResult(new Empty());
    });

    public virtual Task<Empty> RegisterActorReminder(RegisterActorReminderRequest request, ServerCallContext context) => Run(async () =>
    {
        await reminders.CreateAsync(request.ActorType, request.ActorId, request.Name, new Runtime.Actors.ActorReminderRequest(
            request.DueTime, request.Period, request.Ttl, BytesAsJson(request.Data), request.HasOverwrite ? request.Overwrite : null), context.CancellationToken);
        return new Empty();
    });

    public virtual Task<Empty> UnregisterActorReminder(UnregisterActorReminderRequest request, ServerCallContext context) => Run(async () =>
    {
        await reminders.DeleteAsync(request.ActorType, request.ActorId, request.Name, context.CancellationToken);
        return new Empty();
    });

    public virtual Task<GetActorReminderResponse> GetActorReminder(GetActorReminderRequest request, ServerCallContext context) => Run(async () =>
    {
        var reminder = await reminders.GetAsync(request.ActorType, request.ActorId, request.Name, context.CancellationToken)
            ?? throw DaprErrors.ActorReminderNotFound(request.Name);
        var found = ToActorReminder(reminder.Describe());
        var response = new GetActorReminderResponse { ActorType = found.ActorType, ActorId = found.ActorId, Data = found.Data };
        if (found.HasDueTime)
        {
            response.DueTime = found.DueTime;
        }
        if (found.HasPeriod)
        {
            response.Period = found.Period;
        }
        if (found.HasTtl)
        {
            response.Ttl = found.Ttl;
        }
        return response;
    });

    public virtual Task<ListActorRemindersResponse> ListActorReminders(ListActorRemindersRequest request, ServerCallContext context) => Run(async () =>
    {
        var response = new ListActorRemindersResponse();
        foreach (var reminder in await reminders.ListAsync(request.ActorType, request.HasActorId ? request.ActorId : null, context.CancellationToken))
        {
            response.Reminders.Add(new NamedActorReminder { Name = reminder.Name, Reminder = ToActorReminder(reminder.Describe()) });
        }
        return response;
    });

    public virtual Task<UnregisterActorRemindersByTypeResponse> UnregisterActorRemindersByType(UnregisterActorRemindersByTypeRequest request, ServerCallContext context) => Run(async () =>
    {
        await reminders.DeleteByActorIdAsync(request.ActorType, request.HasActorId ? request.ActorId : null, context.CancellationToken);
        return new UnregisterActorRemindersByTypeResponse();
    });

    private static ActorReminder ToActorReminder(Runtime.Actors.ReminderDescription described)
    {
        var reminder = new ActorReminder { ActorType = described.ActorType, ActorId = described.ActorId };
        if (described.DueTime is not null)
        {
            reminder.DueTime = described.DueTime;
        }
        if (described.Period is not null)
        {
            reminder.Period = described.Period;
        }
        if (described.Ttl is not null)
        {
            reminder.Ttl = described.Ttl;
        }
        if (described.Data is not null)
        {
            // daprd hands back the Scheduler job's data: the JSON bytes wrapped in a BytesValue.
            reminder.Data = Any.Pack(new BytesValue { Value = ByteString.CopyFromUtf8(described.Data) });
        }
        return reminder;
    }

    /// <summary>gRPC carries reminder and timer data as bytes; daprd stores them JSON-encoded (a base64 string), as the HTTP API does.</summary>
    private static System.Text.Json.JsonElement? BytesAsJson(ByteString data) =>
        data.IsEmpty ? null : System.Text.Json.JsonSerializer.SerializeToElement(data.ToBase64());

    private static Dictionary<string, string> Map(IReadOnlyDictionary<string, string> source) => new(source);

    private static StateItemInput ToInput(StateItem item) =>
        new(item.Key, item.Value.ToByteArray(), item.Etag?.Value, ConcurrencyName(item.Options), item.Metadata);

    private static string? ConcurrencyName(StateOptions? options) => options?.Concurrency switch
    {
        StateOptions.Types.StateConcurrency.ConcurrencyFirstWrite => "first-write",
        StateOptions.Types.StateConcurrency.ConcurrencyLastWrite => "last-write",
        _ => null,
    };

    /// <summary>Turns the core's <see cref="DaprApiException"/> into the gRPC status daprd would send.</summary>
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
    }
}
