using System.Collections.Concurrent;
using Dapr.DurableTask.Protobuf;
using DaprShop.Sidecar.Components.State;
using DaprShop.Sidecar.Configuration;
using DaprShop.Sidecar.Hosting;
using DaprShop.Sidecar.Resources;
using DaprShop.Sidecar.Runtime;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace DaprShop.Sidecar.Workflows;

/// <summary>
/// The durable workflow engine behind <c>TaskHubSidecarService</c>. Each instance keeps its history; a turn
/// sends the worker the past events and the new ones (an OrchestratorStarted, then the inbox), and the actions
/// it returns become history events, activity work items, timers and messages to other instances — all of a
/// turn written in one state-store transaction. See docs/workflows.md.
/// </summary>
public sealed partial class WorkflowEngine : IAsyncDisposable
{
    private static readonly Timestamp IndefiniteFireAt = new() { Seconds = 253402300799L, Nanos = 999999999 };
    private readonly SidecarOptions _options;
    private readonly ComponentHost _components;
    private readonly WorkItemDispatcher _dispatcher;
    private readonly Tracing.WorkflowMetrics _metrics;
    private readonly DurableTimers _timers;
    private readonly TimeProvider _time;
    private readonly ILogger<WorkflowEngine> _logger;
    private readonly ConcurrentDictionary<string, InstanceRecord> _instances = new(StringComparer.Ordinal);
    private readonly HashSet<string>[] _index = Enumerable.Range(0, WorkflowStorage.IndexPartitions).Select(_ => new HashSet<string>(StringComparer.Ordinal)).ToArray();
    private readonly SemaphoreSlim[] _indexGates = Enumerable.Range(0, WorkflowStorage.IndexPartitions).Select(_ => new SemaphoreSlim(1, 1)).ToArray();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WorkflowStorage? _storage;
    private readonly WorkflowRetentionPolicy? _retention;

    /// <summary>The timer id of a finished instance's purge under the retention policy (workflow timer ids are ≥ 0, −1 is a delayed start).</summary>
    private const int RetentionTimerId = -2;

    public WorkflowEngine(SidecarOptions options, ComponentHost components, WorkItemDispatcher dispatcher, Tracing.WorkflowMetrics metrics, LoadedResources resources, TimeProvider time, ILogger<WorkflowEngine> logger)
    {
        _metrics = metrics;
        _retention = resources.Configuration.WorkflowRetention;
        _options = options;
        _components = components;
        _dispatcher = dispatcher;
        _time = time;
        _logger = logger;
        _timers = new DurableTimers(time);
    }

    private DateTime Now => _time.GetUtcNow().UtcDateTime;

    // ---------------------------------------------------------------- start-up and recovery

    /// <summary>Loads every instance from the index, re-dispatches pending turns and activities, re-arms timers.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        try
        {
            if (_components.ActorStateStore is not { } store)
            {
                _logger.LogInformation("No actor state store: the workflow engine is not available");
                return;
            }
            _storage = new WorkflowStorage(store.Store, _options.AppId, _options.Namespace);
            _timers.Start(FireTimerAsync);
            var ids = new List<string>();
            for (var p = 0; p < WorkflowStorage.IndexPartitions; p++)
            {
                foreach (var id in await _storage.ReadIndexAsync(p, ct))
                {
                    _index[p].Add(id);
                    ids.Add(id);
                }
            }
            var resumed = 0;
            await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (id, token) =>
            {
                var metadata = await _storage.ReadMetadataAsync(id, token);
                if (metadata is null)
                {
                    return;
                }
                var instance = _instances.GetOrAdd(id, static i => new InstanceRecord(i));
                await instance.Gate.WaitAsync(token);
                try
                {
                    instance.Metadata = metadata;
                    if (!metadata.IsTerminal || metadata.Outbox.Count > 0)
                    {
                        await LoadAsync(instance, token);
                        instance.RetryStalled = metadata.RuntimeStatus == OrchestrationStatus.Stalled;
                        Rearm(instance);
                        TrySchedule(instance);
                        Interlocked.Increment(ref resumed);
                    }
                }
                finally
                {
                    instance.Gate.Release();
                }
                if (metadata.Outbox.Count > 0)
                {
                    _ = DeliverOutboxAsync(instance);
                }
                if (metadata.IsTerminal && metadata.PurgeAt is { } purgeAt)
                {
                    _timers.Schedule(new DueTimer(id, metadata.Generation, RetentionTimerId, purgeAt));
                }
            });
            _logger.LogInformation("Workflow engine started on state store '{Store}': {Count} instances, {Resumed} resumed", store.Name, ids.Count, resumed);
        }
        finally
        {
            _ready.TrySetResult();
        }
    }

    /// <summary>Rebuilds the pending activities and timers of a loaded instance from its history and inbox.</summary>
    private void Rearm(InstanceRecord instance)
    {
        var metadata = instance.Metadata!;
        instance.Activities.Clear();
        instance.Timers.Clear();
        if (metadata.IsTerminal)
        {
            return;
        }
        var answered = new HashSet<int>();
        var fired = new HashSet<int>();
        foreach (var e in instance.History!.Concat(instance.Inbox.Select(i => i.Event)))
        {
            if (e.TaskCompleted is { } c) { answered.Add(c.TaskScheduledId); }
            if (e.TaskFailed is { } f) { answered.Add(f.TaskScheduledId); }
            if (e.TimerFired is { } t) { fired.Add(t.TimerId); }
        }
        foreach (var e in instance.History!)
        {
            if (e.TaskScheduled is not null && !answered.Contains(e.EventId))
            {
                instance.Activities[e.EventId] = e;
                DispatchActivity(instance, e);
            }
            if (e.TimerCreated is { } timer && !fired.Contains(e.EventId))
            {
                ArmTimer(instance, e.EventId, timer.FireAt);
            }
        }
        if (metadata.ScheduledStartAt is { } at && metadata.RuntimeStatus == OrchestrationStatus.Pending)
        {
            _timers.Schedule(new DueTimer(instance.Id, metadata.Generation, -1, at));
        }
    }

    private async Task LoadAsync(InstanceRecord instance, CancellationToken ct)
    {
        if (instance.Loaded || instance.Metadata is null)
        {
            return;
        }
        var storage = Storage;
        instance.History = await storage.ReadHistoryAsync(instance.Id, instance.Metadata.HistoryLength, ct);
        instance.Inbox = await storage.ReadInboxAsync(instance.Id, instance.Metadata.Inbox, ct);
        instance.CustomStatus = instance.Metadata.HasCustomStatus ? await storage.ReadCustomStatusAsync(instance.Id, ct) : null;
        instance.Loaded = true;
    }

    private WorkflowStorage Storage => _storage ?? throw new WorkflowException(StatusCode.FailedPrecondition,
        "the workflow engine needs an actor state store: mark a transactional state store component with actorStateStore: \"true\"");

    private async Task ReadyAsync(CancellationToken ct)
    {
        await _ready.Task.WaitAsync(ct);
        _ = Storage;
    }

    // ---------------------------------------------------------------- client API

    public async Task<string> StartInstanceAsync(CreateInstanceRequest request, CancellationToken ct)
    {
        await ReadyAsync(ct);
        var id = string.IsNullOrEmpty(request.InstanceId) ? Guid.NewGuid().ToString("N") : request.InstanceId;
        if (string.IsNullOrEmpty(request.Name))
        {
            throw new WorkflowException(StatusCode.InvalidArgument, "workflow name is required");
        }
        var started = ExecutionStarted(id, Timestamp.FromDateTime(Now), request.Name, request.Version, request.Input, request.ScheduledStartTimestamp, request.ParentTraceContext, request.Tags);
        await _metrics.OperationAsync(Tracing.WorkflowMetrics.CreateWorkflow, () => CreateAsync(id, started, ct));
        if (request.ScheduledStartTimestamp is null)
        {
            // As daprd's executor: the call returns once the instance has started (its first turn taken), so a
            // caller reading its status next never sees PENDING. A scheduled start returns at once.
            await WaitForInstanceAsync(id, withInputs: false, completion: false, ct);
        }
        return id;
    }

    /// <summary>The first event of a new top-level instance (started by a client or as a detached workflow).</summary>
    private HistoryEvent ExecutionStarted(string id, Timestamp timestamp, string name, string? version, string? input,
        Timestamp? scheduledStart, TraceContext? parentTrace, IDictionary<string, string> tags)
    {
        var started = new HistoryEvent
        {
            EventId = -1,
            Timestamp = timestamp,
            ExecutionStarted = new ExecutionStartedEvent
            {
                Name = name,
                Version = version,
                Input = input,
                WorkflowInstance = new WorkflowInstance { InstanceId = id },
                ScheduledStartTimestamp = scheduledStart,
                ParentTraceContext = parentTrace,
            },
            Router = new TaskRouter { SourceAppID = _options.AppId },
        };
        started.ExecutionStarted.Tags.Add(tags);
        return started;
    }

    /// <summary>Creates (or re-creates a finished) instance from its ExecutionStarted event; refuses an active id as daprd does.</summary>
    private async Task CreateAsync(string id, HistoryEvent started, CancellationToken ct)
    {
        var storage = Storage;
        var instance = _instances.GetOrAdd(id, static i => new InstanceRecord(i));
        await instance.Gate.WaitAsync(ct);
        try
        {
            var previous = instance.Metadata;
            if (previous is not null && !previous.IsTerminal)
            {
                throw new WorkflowException(StatusCode.Unknown, $"an active workflow with ID '{id}' already exists");
            }
            var now = Now;
            var executionId = Guid.NewGuid().ToString("N");
            started.ExecutionStarted.WorkflowInstance.ExecutionId = executionId;
            var metadata = new InstanceMetadata
            {
                Name = started.ExecutionStarted.Name,
                RuntimeStatus = OrchestrationStatus.Pending,
                CreatedAt = now,
                LastUpdatedAt = now,
                Input = started.ExecutionStarted.Input,
                ExecutionId = executionId,
                ParentInstanceId = started.ExecutionStarted.ParentInstance?.WorkflowInstance?.InstanceId,
                Generation = (previous?.Generation ?? 0) + 1,
                Inbox = [0],
                NextInboxSeq = 1,
                ScheduledStartAt = started.ExecutionStarted.ScheduledStartTimestamp?.ToDateTime() is { } at && at > now ? at : null,
            };
            var ops = new List<StateOperation>();
            if (previous is not null)
            {
                // A finished id started again: its old rows go in the same transaction.
                for (var i = 0; i < previous.HistoryLength; i++)
                {
                    ops.Add(WorkflowStorage.Delete(storage.HistoryKey(id, i)));
                }
                ops.AddRange(previous.Inbox.Select(seq => WorkflowStorage.Delete(storage.InboxKey(id, seq))));
                if (previous.HasCustomStatus)
                {
                    ops.Add(WorkflowStorage.Delete(storage.CustomStatusKey(id)));
                }
            }
            ops.Add(WorkflowStorage.Set(storage.InboxKey(id, 0), started.ToByteArray()));
            ops.Add(storage.SetMetadata(id, metadata));
            await WriteWithIndexAsync(id, add: true, ops, ct);

            instance.Metadata = metadata;
            instance.History = [];
            instance.Inbox = [(0, started)];
            instance.Unsaved.Clear();
            instance.CustomStatus = null;
            instance.Loaded = true;
            instance.InFlight = null;
            instance.Activities.Clear();
            instance.Timers.Clear();
            if (metadata.ScheduledStartAt is { } startAt)
            {
                _timers.Schedule(new DueTimer(id, metadata.Generation, -1, startAt));
            }
            TrySchedule(instance);
            instance.NotifyChanged();
        }
        finally
        {
            instance.Gate.Release();
        }
    }

    /// <summary>Writes <paramref name="ops"/> in one transaction together with the index partition of <paramref name="id"/> when it changes.</summary>
    private async Task WriteWithIndexAsync(string id, bool add, List<StateOperation> ops, CancellationToken ct)
    {
        var storage = Storage;
        var p = WorkflowStorage.PartitionOf(id);
        await _indexGates[p].WaitAsync(ct);
        try
        {
            var partition = _index[p];
            var changes = add ? !partition.Contains(id) : partition.Contains(id);
            if (changes)
            {
                HashSet<string> next;
                lock (partition)
                {
                    next = new HashSet<string>(partition, StringComparer.Ordinal);
                }
                if (add) { next.Add(id); } else { next.Remove(id); }
                ops.Add(storage.SetIndex(p, next.Order(StringComparer.Ordinal)));
            }
            await storage.Store.TransactAsync(ops, ct);
            if (changes)
            {
                lock (partition)
                {
                    if (add) { partition.Add(id); } else { partition.Remove(id); }
                }
            }
        }
        finally
        {
            _indexGates[p].Release();
        }
    }

    public Task<GetInstanceResponse> GetInstanceAsync(string id, bool withInputs, CancellationToken ct) =>
        _metrics.OperationAsync(Tracing.WorkflowMetrics.GetWorkflow, () => ReadInstanceAsync(id, withInputs, ct));

    private async Task<GetInstanceResponse> ReadInstanceAsync(string id, bool withInputs, CancellationToken ct)
    {
        await ReadyAsync(ct);
        if (!_instances.TryGetValue(id, out var instance))
        {
            return new GetInstanceResponse { Exists = false };
        }
        await instance.Gate.WaitAsync(ct);
        try
        {
            return await DescribeAsync(instance, withInputs, ct);
        }
        finally
        {
            instance.Gate.Release();
        }
    }

    private async Task<GetInstanceResponse> DescribeAsync(InstanceRecord instance, bool withInputs, CancellationToken ct)
    {
        if (instance.Metadata is not { } m)
        {
            return new GetInstanceResponse { Exists = false };
        }
        var state = new WorkflowState
        {
            InstanceId = instance.Id,
            Name = m.Name,
            WorkflowStatus = m.RuntimeStatus,
            CreatedTimestamp = Timestamp.FromDateTime(DateTime.SpecifyKind(m.CreatedAt, DateTimeKind.Utc)),
            LastUpdatedTimestamp = Timestamp.FromDateTime(DateTime.SpecifyKind(m.LastUpdatedAt, DateTimeKind.Utc)),
            ExecutionId = m.ExecutionId,
        };
        if (m.CompletedAt is { } completed)
        {
            state.CompletedTimestamp = Timestamp.FromDateTime(DateTime.SpecifyKind(completed, DateTimeKind.Utc));
        }
        if (m.StartedAt is { } startedAt)
        {
            state.StartedAt = Timestamp.FromDateTime(DateTime.SpecifyKind(startedAt, DateTimeKind.Utc));
        }
        if (m.ScheduledStartAt is { } scheduled)
        {
            state.ScheduledStartTimestamp = Timestamp.FromDateTime(DateTime.SpecifyKind(scheduled, DateTimeKind.Utc));
        }
        if (m.ParentInstanceId is not null)
        {
            state.ParentInstanceId = m.ParentInstanceId;
        }
        if (withInputs)
        {
            // Failure details come with the inputs and outputs only, as daprd's backend gives them.
            if (m.FailureDetails is not null)
            {
                state.FailureDetails = TaskFailureDetails.Parser.ParseFrom(Convert.FromBase64String(m.FailureDetails));
            }
            if (m.Input is not null) { state.Input = m.Input; }
            if (m.Output is not null) { state.Output = m.Output; }
            var custom = instance.Loaded ? instance.CustomStatus : m.HasCustomStatus ? await Storage.ReadCustomStatusAsync(instance.Id, ct) : null;
            if (custom is not null) { state.CustomStatus = custom; }
        }
        return new GetInstanceResponse { Exists = true, WorkflowState = state };
    }

    public async Task<GetInstanceResponse> WaitForInstanceAsync(string id, bool withInputs, bool completion, CancellationToken ct)
    {
        await ReadyAsync(ct);
        if (string.IsNullOrEmpty(id))
        {
            // No instance can ever have it (a start without an id gets a generated one).
            return new GetInstanceResponse { Exists = false };
        }
        // As daprd's orchestrator stream: an id that holds no instance (not created yet, or purged) is waited on until
        // one is created under it and meets the condition, or the caller gives up. The record stays, as a purged one does.
        var instance = _instances.GetOrAdd(id, static i => new InstanceRecord(i));
        while (true)
        {
            Task changed;
            await instance.Gate.WaitAsync(ct);
            try
            {
                var done = instance.Metadata is { } m && (completion ? m.IsTerminal : m.RuntimeStatus != OrchestrationStatus.Pending);
                if (done)
                {
                    return await DescribeAsync(instance, withInputs, ct);
                }
                changed = instance.Changed.Task;
            }
            finally
            {
                instance.Gate.Release();
            }
            await changed.WaitAsync(ct);
        }
    }

    // daprd counts every event added to an instance's inbox (raised, terminate, suspend, resume) as add_event.
    public Task RaiseEventAsync(string id, string name, string? input, CancellationToken ct) =>
        _metrics.OperationAsync(Tracing.WorkflowMetrics.AddEvent, () => AddRaisedEventAsync(id, name, input, ct));

    private async Task AddRaisedEventAsync(string id, string name, string? input, CancellationToken ct)
    {
        await ReadyAsync(ct);
        if (string.IsNullOrEmpty(name))
        {
            throw new WorkflowException(StatusCode.InvalidArgument, "event name is required");
        }
        var raised = new HistoryEvent { EventId = -1, Timestamp = Timestamp.FromDateTime(Now), EventRaised = new EventRaisedEvent { Name = name, Input = input } };
        if (!await AddToInboxAsync(id, [raised], dedupe: null, ct))
        {
            throw NotFound(id);
        }
    }

    private static WorkflowException NotFound(string id) => new(StatusCode.NotFound, $"no such instance exists: {id}");

    public Task TerminateAsync(string id, string? output, bool recursive, CancellationToken ct) =>
        _metrics.OperationAsync(Tracing.WorkflowMetrics.AddEvent, async () =>
        {
            await ReadyAsync(ct);
            if (!await TerminateInstanceAsync(id, output, recursive, ct))
            {
                throw NotFound(id);
            }
        });

    public Task SuspendAsync(string id, string? reason, CancellationToken ct) =>
        _metrics.OperationAsync(Tracing.WorkflowMetrics.AddEvent, async () =>
        {
            await ReadyAsync(ct);
            await ChangeSuspensionAsync(id, reason, suspend: true, ct);
        });

    public Task ResumeAsync(string id, string? reason, CancellationToken ct) =>
        _metrics.OperationAsync(Tracing.WorkflowMetrics.AddEvent, async () =>
        {
            await ReadyAsync(ct);
            await ChangeSuspensionAsync(id, reason, suspend: false, ct);
        });

    private async Task ChangeSuspensionAsync(string id, string? reason, bool suspend, CancellationToken ct)
    {
        if (!_instances.TryGetValue(id, out var instance))
        {
            throw NotFound(id);
        }
        await instance.Gate.WaitAsync(ct);
        try
        {
            var m = instance.Metadata ?? throw NotFound(id);
            if (m.IsTerminal)
            {
                return;
            }
            var suspended = m.RuntimeStatus == OrchestrationStatus.Suspended;
            if (suspended == suspend)
            {
                return;
            }
            await LoadAsync(instance, ct);
            var e = new HistoryEvent { EventId = -1, Timestamp = Timestamp.FromDateTime(Now) };
            if (suspend)
            {
                e.ExecutionSuspended = new ExecutionSuspendedEvent { Input = reason };
            }
            else
            {
                e.ExecutionResumed = new ExecutionResumedEvent { Input = reason };
            }
            if (!instance.History!.Any(h => h.ExecutionStarted is not null))
            {
                // Not started yet (scheduled for later): as in daprd, the event waits in the inbox behind the start,
                // and a resume before the start time leaves the instance pending until then.
                await AppendInboxLockedAsync(instance, [e], ct, next => next.RuntimeStatus = suspend ? OrchestrationStatus.Suspended : OrchestrationStatus.Pending);
                TrySchedule(instance);
                instance.NotifyChanged();
                return;
            }
            var storage = Storage;
            var next = Copy(m);
            next.RuntimeStatus = suspend ? OrchestrationStatus.Suspended : OrchestrationStatus.Running;
            next.LastUpdatedAt = Now;
            next.HistoryLength = m.HistoryLength + 1;
            await storage.Store.TransactAsync([WorkflowStorage.Set(storage.HistoryKey(id, m.HistoryLength), e.ToByteArray()), storage.SetMetadata(id, next)], ct);
            instance.History!.Add(e);
            instance.Metadata = next;
            TrySchedule(instance);
            instance.NotifyChanged();
        }
        finally
        {
            instance.Gate.Release();
        }
    }

    /// <summary>The retention policy's purge of a finished instance; nothing if it was started again or purged meanwhile.</summary>
    private async Task PurgeRetainedAsync(DueTimer timer)
    {
        try
        {
            if (await PurgeAsync(timer.InstanceId, recursive: false, force: false, CancellationToken.None, retainedGeneration: timer.Generation) > 0)
            {
                _logger.LogDebug("Workflow '{Id}' purged by the state retention policy", timer.InstanceId);
            }
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "Workflow '{Id}' could not be purged by the state retention policy; retrying in 30 s", timer.InstanceId);
            _timers.Schedule(timer with { FireAt = Now.AddSeconds(30) });
        }
    }

    /// <summary>Purges a finished instance (and, recursively, its children); a retention policy's purge counts too, as in daprd.</summary>
    public Task<int> PurgeAsync(string id, bool recursive, bool force, CancellationToken ct, long? retainedGeneration = null) =>
        _metrics.OperationAsync(Tracing.WorkflowMetrics.PurgeWorkflow, () => PurgeInstanceAsync(id, recursive, force, ct, retainedGeneration));

    private async Task<int> PurgeInstanceAsync(string id, bool recursive, bool force, CancellationToken ct, long? retainedGeneration)
    {
        await ReadyAsync(ct);
        if (!_instances.TryGetValue(id, out var instance))
        {
            return 0;
        }
        var count = 0;
        if (recursive)
        {
            // As daprd: the children first, and a child that cannot be purged (still running) fails the purge before
            // its parent is touched, so the parent, and the way to its children, are kept for a later purge.
            foreach (var child in await ChildrenToPurgeAsync(instance, id, force, ct))
            {
                count += await PurgeInstanceAsync(child, recursive, force, ct, null);
            }
        }
        await instance.Gate.WaitAsync(ct);
        try
        {
            if (instance.Metadata is not { } m)
            {
                return count; // purged meanwhile: only its children (if any) were this call's
            }
            if (retainedGeneration is { } generation)
            {
                if (m.Generation != generation || !m.IsTerminal || m.PurgeAt is not { } due)
                {
                    return 0;
                }
                if (due > Now || m.Outbox.Count > 0)
                {
                    // Not yet, or its last messages (a child's result to its parent) are still to be delivered.
                    _timers.Schedule(new DueTimer(id, generation, RetentionTimerId, due > Now ? due : Now.AddSeconds(5)));
                    return 0;
                }
            }
            if (!m.IsTerminal && !force)
            {
                throw NotCompleted(id);
            }
            var storage = Storage;
            var ops = new List<StateOperation>();
            for (var i = 0; i < m.HistoryLength; i++)
            {
                ops.Add(WorkflowStorage.Delete(storage.HistoryKey(id, i)));
            }
            ops.AddRange(m.Inbox.Select(seq => WorkflowStorage.Delete(storage.InboxKey(id, seq))));
            ops.Add(WorkflowStorage.Delete(storage.CustomStatusKey(id)));
            ops.Add(WorkflowStorage.Delete(storage.MetadataKey(id)));
            await WriteWithIndexAsync(id, add: false, ops, ct);
            instance.Metadata = null;
            instance.History = null;
            instance.Inbox = [];
            instance.Unsaved.Clear();
            instance.CustomStatus = null;
            instance.Loaded = false;
            instance.InFlight = null;
            instance.Activities.Clear();
            instance.Timers.Clear();
            instance.NotifyChanged();
        }
        finally
        {
            instance.Gate.Release();
        }
        return count + 1;
    }

    private static WorkflowException NotCompleted(string id) =>
        new(StatusCode.Unknown, $"failed to purge workflow '{id}': the workflow is not in a completed state");

    /// <summary>The children an instance created, read under its lock once it is known to be purgeable.</summary>
    private async Task<List<string>> ChildrenToPurgeAsync(InstanceRecord instance, string id, bool force, CancellationToken ct)
    {
        await instance.Gate.WaitAsync(ct);
        try
        {
            if (instance.Metadata is not { } m)
            {
                return [];
            }
            if (!m.IsTerminal && !force)
            {
                throw NotCompleted(id);
            }
            await LoadAsync(instance, ct);
            return [.. instance.History!.Where(e => e.ChildWorkflowInstanceCreated is not null).Select(e => e.ChildWorkflowInstanceCreated.InstanceId).Distinct(StringComparer.Ordinal)];
        }
        finally
        {
            instance.Gate.Release();
        }
    }

    public ListInstanceIDsResponse ListInstanceIds(string? continuationToken, int pageSize)
    {
        if (!_ready.Task.IsCompleted)
        {
            throw new WorkflowException(StatusCode.Unavailable, "the workflow engine is starting");
        }
        _ = Storage;
        var all = new List<string>();
        for (var p = 0; p < WorkflowStorage.IndexPartitions; p++)
        {
            lock (_index[p])
            {
                all.AddRange(_index[p]);
            }
        }
        all.Sort(StringComparer.Ordinal);
        var start = continuationToken is null ? 0 : all.FindIndex(i => string.CompareOrdinal(i, continuationToken) > 0);
        if (start < 0)
        {
            start = all.Count;
        }
        var size = pageSize > 0 ? pageSize : all.Count;
        var page = all.Skip(start).Take(size).ToList();
        var response = new ListInstanceIDsResponse();
        response.InstanceIds.AddRange(page);
        if (start + page.Count < all.Count && page.Count > 0)
        {
            response.ContinuationToken = page[^1];
        }
        return response;
    }

    public async Task<IReadOnlyList<HistoryEvent>> GetHistoryAsync(string id, CancellationToken ct)
    {
        await ReadyAsync(ct);
        if (!_instances.TryGetValue(id, out var instance))
        {
            throw NotFound(id);
        }
        await instance.Gate.WaitAsync(ct);
        try
        {
            var m = instance.Metadata ?? throw NotFound(id);
            if (instance.Loaded)
            {
                return instance.History!.Select(e => e.Clone()).ToList();
            }
            return await Storage.ReadHistoryAsync(id, m.HistoryLength, ct);
        }
        finally
        {
            instance.Gate.Release();
        }
    }

    // ---------------------------------------------------------------- worker API

    public async Task ServeWorkItemsAsync(IServerStreamWriter<WorkItem> stream, CancellationToken ct)
    {
        await ReadyAsync(ct);
        var serving = _dispatcher.ServeAsync(stream, ct);
        // A new worker may carry newer code (a rollout): stalled instances get their turn again, as daprd offers it
        // when its placement table changes.
        await RetryStalledAsync(ct);
        await serving;
    }

    private async Task RetryStalledAsync(CancellationToken ct)
    {
        foreach (var instance in _instances.Values.Where(i => i.Metadata?.RuntimeStatus == OrchestrationStatus.Stalled))
        {
            await instance.Gate.WaitAsync(ct);
            try
            {
                if (instance.Metadata?.RuntimeStatus == OrchestrationStatus.Stalled && instance.InFlight is null)
                {
                    instance.RetryStalled = true;
                    TrySchedule(instance);
                }
            }
            finally
            {
                instance.Gate.Release();
            }
        }
    }

    public async Task CompleteActivityAsync(ActivityResponse response, CancellationToken ct)
    {
        await ReadyAsync(ct);
        var key = response.CompletionToken;
        var ran = _dispatcher.Completed(key);
        if (!_instances.TryGetValue(response.InstanceId, out var instance))
        {
            return;
        }
        var generation = ParseGeneration(key);
        await instance.Gate.WaitAsync(ct);
        try
        {
            if (instance.Metadata is not { } m || m.IsTerminal || (generation is { } g && g != m.Generation)
                || !instance.Activities.TryGetValue(response.TaskId, out var scheduled))
            {
                // A late answer for a finished, restarted or continued-as-new instance, or a duplicate.
                return;
            }
            var e = new HistoryEvent { EventId = -1, Timestamp = Timestamp.FromDateTime(Now) };
            if (response.FailureDetails is not null)
            {
                e.TaskFailed = new TaskFailedEvent { TaskScheduledId = response.TaskId, FailureDetails = response.FailureDetails, TaskExecutionId = scheduled.TaskScheduled.TaskExecutionId };
            }
            else
            {
                e.TaskCompleted = new TaskCompletedEvent { TaskScheduledId = response.TaskId, Result = response.Result, TaskExecutionId = scheduled.TaskScheduled.TaskExecutionId };
            }
            // Not written on its own: the next turn saves it into the history with the worker's actions, one durable
            // write per step instead of two. A crash before that turn re-runs the activity (see InstanceRecord.Unsaved).
            await LoadAsync(instance, ct);
            var seq = m.NextInboxSeq++;
            instance.Inbox.Add((seq, e));
            instance.Unsaved.Add(seq);
            instance.Activities.Remove(response.TaskId);
            _metrics.Activity(scheduled.TaskScheduled.Name, e.TaskFailed is null ? Tracing.WorkflowMetrics.Success : Tracing.WorkflowMetrics.Failed, ran);
            TrySchedule(instance);
        }
        finally
        {
            instance.Gate.Release();
        }
    }

    private static long? ParseGeneration(string token)
    {
        // Tokens: "a|{generation}|{taskId}|{instanceId}" and "o|{generation}|{turn}|{instanceId}".
        var parts = token.Split('|', 4);
        return parts.Length == 4 && long.TryParse(parts[1], out var g) ? g : null;
    }

    public async Task CompleteWorkflowTurnAsync(WorkflowResponse response, CancellationToken ct)
    {
        await ReadyAsync(ct);
        _dispatcher.Completed(response.CompletionToken);
        if (!_instances.TryGetValue(response.InstanceId, out var instance))
        {
            return;
        }
        var deliverOutbox = false;
        await instance.Gate.WaitAsync(ct);
        try
        {
            var turn = instance.InFlight;
            if (turn is null || turn.Token != response.CompletionToken || instance.Metadata is not { } m || m.IsTerminal)
            {
                return;
            }
            try
            {
                deliverOutbox = await ApplyTurnAsync(instance, turn, response, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                _logger.LogError(ex, "Workflow '{Id}': the turn could not be saved; it is sent to the worker again", instance.Id);
                _metrics.Execution(m.Name, Tracing.WorkflowMetrics.Recoverable, null);
                instance.InFlight = null;
                TrySchedule(instance);
                throw new WorkflowException(StatusCode.Internal, $"failed to save the workflow state: {ex.Message}");
            }
        }
        finally
        {
            instance.Gate.Release();
        }
        if (deliverOutbox)
        {
            _ = DeliverOutboxAsync(instance);
        }
    }

    // ---------------------------------------------------------------- turns

    /// <summary>Sends the next turn when the instance has new events, no turn in flight, and may run (under the gate).</summary>
    private void TrySchedule(InstanceRecord instance)
    {
        var m = instance.Metadata;
        if (m is null || m.IsTerminal || instance.InFlight is not null || !instance.Loaded || instance.Inbox.Count == 0)
        {
            return;
        }
        if (m.RuntimeStatus == OrchestrationStatus.Suspended || (m.RuntimeStatus == OrchestrationStatus.Stalled && !instance.RetryStalled))
        {
            return;
        }
        if (m.RuntimeStatus == OrchestrationStatus.Pending && m.ScheduledStartAt is { } at && at > Now)
        {
            return;
        }
        // ExecutionStarted first (continue-as-new puts it behind events that were waiting), the rest in arrival order.
        var delivered = instance.Inbox.OrderBy(i => i.Event.ExecutionStarted is null ? 1 : 0).ThenBy(i => i.Seq).ToList();
        if (delivered[0].Event is { ExecutionStarted: { } executionStarted } first)
        {
            // daprd's scheduling latency: from when the instance was due (its scheduled start, else its creation) to its first turn.
            var due = (executionStarted.ScheduledStartTimestamp ?? first.Timestamp).ToDateTime();
            _metrics.Scheduling(executionStarted.Name, Now - due);
        }
        var started = new HistoryEvent { EventId = -1, Timestamp = Timestamp.FromDateTime(Now), WorkflowStarted = new WorkflowStartedEvent() };
        var newEvents = new List<HistoryEvent>(delivered.Count + 1) { started };
        newEvents.AddRange(delivered.Select(d => d.Event));
        var token = $"o|{m.Generation}|{++instance.TurnCounter}|{instance.Id}";
        var request = new WorkflowRequest
        {
            InstanceId = instance.Id,
            ExecutionId = m.ExecutionId,
            Router = new TaskRouter { SourceAppID = _options.AppId },
        };
        request.PastEvents.AddRange(instance.History!);
        request.NewEvents.AddRange(newEvents);
        var turn = new WorkflowTurn(token, delivered.Select(d => d.Seq).ToList(), newEvents, request);
        instance.InFlight = turn;
        instance.RetryStalled = false;
        var item = new WorkItem { WorkflowRequest = request, CompletionToken = token };
        if (Oversized(item) is { } size)
        {
            StallOversized(instance, () => ReferenceEquals(instance.InFlight, turn), $"the workflow request of {size} bytes exceeds its budget of {DispatchBudget} bytes (95% of --max-body-size)");
            return;
        }
        _dispatcher.Enqueue(new PendingWorkItem(token, item, () => ReferenceEquals(instance.InFlight, turn)));
    }

    /// <summary>
    /// daprd 1.18 checks every work item before it is written to the worker's stream against 95 % of
    /// <c>--max-body-size</c> (the rest is headroom for framing): an item over it would break the stream for every
    /// instance of the app, so its instance stalls instead (<see cref="StallOversized"/>).
    /// </summary>
    private long DispatchBudget => _options.MaxRequestBytes / 20 * 19;

    private int? Oversized(WorkItem item) => item.CalculateSize() is var size && size > DispatchBudget ? size : null;

    /// <summary>
    /// Stalls an instance whose next work item is too large to send (reason <c>PAYLOAD_SIZE_EXCEEDED</c>), as daprd's
    /// graceful stall: nothing is sent, the worker's stream and every other instance go on, and the stall lasts —
    /// the same check runs whenever the instance is offered again (a worker connects, the sidecar restarts) — until
    /// an operator raises <c>--max-body-size</c> or purges the instance. Runs after the caller leaves the gate.
    /// </summary>
    private void StallOversized(InstanceRecord instance, Func<bool> stillDue, string description) => _ = Task.Run(async () =>
    {
        await instance.Gate.WaitAsync();
        try
        {
            if (stillDue() && instance.Metadata is { IsTerminal: false })
            {
                await ApplyStallAsync(instance, new ExecutionStalledEvent { Reason = StalledReason.PayloadSizeExceeded, Description = description }, CancellationToken.None);
            }
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Workflow '{Id}' could not be stalled for its payload size", instance.Id);
            instance.InFlight = null;
        }
        finally
        {
            instance.Gate.Release();
        }
    });

    private static string NewMessageId() => Guid.NewGuid().ToString("N");

    private void DispatchActivity(InstanceRecord instance, HistoryEvent scheduled)
    {
        var m = instance.Metadata!;
        var generation = m.Generation;
        var taskId = scheduled.EventId;
        var token = $"a|{generation}|{taskId}|{instance.Id}";
        var request = new ActivityRequest
        {
            Name = scheduled.TaskScheduled.Name,
            Version = scheduled.TaskScheduled.Version,
            Input = scheduled.TaskScheduled.Input,
            WorkflowInstance = new WorkflowInstance { InstanceId = instance.Id, ExecutionId = m.ExecutionId },
            TaskId = taskId,
            TaskExecutionId = scheduled.TaskScheduled.TaskExecutionId,
            // The SDK does not put a trace context on the tasks it schedules; like daprd, run each activity in the
            // trace of the request that started the workflow, so one checkout reads as one trace.
            ParentTraceContext = scheduled.TaskScheduled.ParentTraceContext
                ?? instance.History?.FirstOrDefault(e => e.ExecutionStarted is not null)?.ExecutionStarted.ParentTraceContext,
        };
        bool StillDue() => instance.Metadata is { } current && current.Generation == generation && !current.IsTerminal && instance.Activities.ContainsKey(taskId);
        var item = new WorkItem { ActivityRequest = request, CompletionToken = token };
        if (Oversized(item) is { } size)
        {
            // Offered again when the sidecar restarts (recovery dispatches pending activities), e.g. with a larger limit.
            StallOversized(instance, StillDue, $"the request of activity '{request.Name}' (task {taskId}) of {size} bytes exceeds its budget of {DispatchBudget} bytes (95% of --max-body-size)");
            return;
        }
        _dispatcher.Enqueue(new PendingWorkItem(token, item, StillDue));
    }

    private void ArmTimer(InstanceRecord instance, int timerId, Timestamp fireAt)
    {
        instance.Timers.Add(timerId);
        if (fireAt is null || fireAt.Equals(IndefiniteFireAt) || fireAt.Seconds >= IndefiniteFireAt.Seconds)
        {
            // "Wait for an event without a timeout": the SDK's optional timer that never fires.
            return;
        }
        _timers.Schedule(new DueTimer(instance.Id, instance.Metadata!.Generation, timerId, fireAt.ToDateTime()));
    }

    private async Task FireTimerAsync(DueTimer timer)
    {
        if (!_instances.TryGetValue(timer.InstanceId, out var instance))
        {
            return;
        }
        if (timer.TimerId == RetentionTimerId)
        {
            await PurgeRetainedAsync(timer);
            return;
        }
        try
        {
            await instance.Gate.WaitAsync();
            try
            {
                if (instance.Metadata is not { } m || m.IsTerminal || m.Generation != timer.Generation)
                {
                    return;
                }
                if (timer.TimerId < 0)
                {
                    TrySchedule(instance);
                    return;
                }
                if (!instance.Timers.Remove(timer.TimerId))
                {
                    return;
                }
                var fired = new HistoryEvent
                {
                    EventId = -1,
                    Timestamp = Timestamp.FromDateTime(Now),
                    TimerFired = new TimerFiredEvent { TimerId = timer.TimerId, FireAt = Timestamp.FromDateTime(DateTime.SpecifyKind(timer.FireAt, DateTimeKind.Utc)) },
                };
                await AppendInboxLockedAsync(instance, [fired], CancellationToken.None);
                TrySchedule(instance);
            }
            finally
            {
                instance.Gate.Release();
            }
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Workflow '{Id}': timer {Timer} could not fire; retrying in 5 s", timer.InstanceId, timer.TimerId);
            instance.Timers.Add(timer.TimerId);
            _timers.Schedule(timer with { FireAt = Now.AddSeconds(5) });
        }
    }

    // ---------------------------------------------------------------- inbox and messages between instances

    /// <summary>Adds events to the inbox of an existing, unfinished instance; false when there is none.</summary>
    private async Task<bool> AddToInboxAsync(string id, IReadOnlyList<HistoryEvent> events, Func<InstanceRecord, bool>? dedupe, CancellationToken ct)
    {
        if (!_instances.TryGetValue(id, out var instance))
        {
            return false;
        }
        await instance.Gate.WaitAsync(ct);
        try
        {
            if (instance.Metadata is not { } m)
            {
                return false;
            }
            if (m.IsTerminal)
            {
                return true;
            }
            await LoadAsync(instance, ct);
            if (dedupe is not null && dedupe(instance))
            {
                return true;
            }
            await AppendInboxLockedAsync(instance, events, ct);
            TrySchedule(instance);
            return true;
        }
        finally
        {
            instance.Gate.Release();
        }
    }

    private async Task AppendInboxLockedAsync(InstanceRecord instance, IReadOnlyList<HistoryEvent> events, CancellationToken ct, Action<InstanceMetadata>? change = null)
    {
        await LoadAsync(instance, ct);
        var storage = Storage;
        var m = instance.Metadata!;
        var next = Copy(m);
        change?.Invoke(next);
        var ops = new List<StateOperation>();
        var added = new List<(long, HistoryEvent)>();
        foreach (var e in events)
        {
            var seq = next.NextInboxSeq++;
            ops.Add(WorkflowStorage.Set(storage.InboxKey(instance.Id, seq), e.ToByteArray()));
            next.Inbox.Add(seq);
            added.Add((seq, e));
        }
        next.LastUpdatedAt = Now;
        ops.Add(storage.SetMetadata(instance.Id, next));
        await storage.Store.TransactAsync(ops, ct);
        instance.Metadata = next;
        instance.Inbox.AddRange(added);
    }

    private async Task<bool> TerminateInstanceAsync(string id, string? output, bool recursive, CancellationToken ct)
    {
        if (!_instances.TryGetValue(id, out var instance))
        {
            return false;
        }
        var deliver = false;
        await instance.Gate.WaitAsync(ct);
        try
        {
            if (instance.Metadata is not { } m)
            {
                return false;
            }
            if (m.IsTerminal)
            {
                return true;
            }
            await LoadAsync(instance, ct);
            var storage = Storage;
            var now = Now;
            var timestamp = Timestamp.FromDateTime(now);
            var added = new List<HistoryEvent>
            {
                new() { EventId = -1, Timestamp = timestamp, WorkflowStarted = new WorkflowStartedEvent() },
                new() { EventId = -1, Timestamp = timestamp, ExecutionTerminated = new ExecutionTerminatedEvent { Input = output, Recurse = recursive } },
                new() { EventId = -1, Timestamp = timestamp, ExecutionCompleted = new ExecutionCompletedEvent { WorkflowStatus = OrchestrationStatus.Terminated, Result = output } },
            };
            var next = Copy(m);
            Finish(id, next, OrchestrationStatus.Terminated, output, null, now);
            next.LastUpdatedAt = now;
            var outbox = new List<OutboxMessage>();
            if (recursive)
            {
                var finishedChildren = instance.History!.Concat(instance.Inbox.Select(i => i.Event))
                    .Select(e => e.ChildWorkflowInstanceCompleted?.TaskScheduledId ?? e.ChildWorkflowInstanceFailed?.TaskScheduledId)
                    .Where(t => t is not null).ToHashSet();
                foreach (var e in instance.History!.Where(e => e.ChildWorkflowInstanceCreated is not null && !finishedChildren.Contains(e.EventId)))
                {
                    outbox.Add(new OutboxMessage(NewMessageId(), "terminate", e.ChildWorkflowInstanceCreated.InstanceId, null, output, true));
                }
            }
            var started = instance.History!.FirstOrDefault(e => e.ExecutionStarted is not null)?.ExecutionStarted
                ?? instance.Inbox.Select(i => i.Event).FirstOrDefault(e => e.ExecutionStarted is not null)?.ExecutionStarted;
            if (started?.ParentInstance is { } parent)
            {
                outbox.Add(ParentNotification(parent, OrchestrationStatus.Terminated, output, null, timestamp));
            }
            var ops = new List<StateOperation>();
            for (var i = 0; i < added.Count; i++)
            {
                ops.Add(WorkflowStorage.Set(storage.HistoryKey(id, m.HistoryLength + i), added[i].ToByteArray()));
            }
            ops.AddRange(m.Inbox.Select(seq => WorkflowStorage.Delete(storage.InboxKey(id, seq))));
            next.HistoryLength = m.HistoryLength + added.Count;
            next.Inbox = [];
            next.Outbox = [.. m.Outbox, .. outbox];
            ops.Add(storage.SetMetadata(id, next));
            await storage.Store.TransactAsync(ops, ct);
            _metrics.Execution(m.Name, Tracing.WorkflowMetrics.Failed, SinceFirstTurn(instance.History!, now));
            instance.Metadata = next;
            instance.InFlight = null;
            instance.Activities.Clear();
            instance.Timers.Clear();
            instance.Loaded = false;
            instance.History = null;
            instance.Inbox = [];
            instance.Unsaved.Clear();
            instance.NotifyChanged();
            deliver = next.Outbox.Count > 0;
        }
        finally
        {
            instance.Gate.Release();
        }
        if (deliver)
        {
            _ = DeliverOutboxAsync(instance);
        }
        return true;
    }

    /// <summary>
    /// Delivers an instance's outbox: starts children, hands completions to parents, raises events, terminates.
    /// A message leaves the outbox only after the receiver saved it, so a crash in between delivers it again;
    /// receivers ignore the duplicates they can recognise (a started child, an answered child task).
    /// </summary>
    private async Task DeliverOutboxAsync(InstanceRecord source)
    {
        List<OutboxMessage> messages;
        await source.Gate.WaitAsync();
        try
        {
            messages = source.Metadata?.Outbox.ToList() ?? [];
        }
        finally
        {
            source.Gate.Release();
        }
        var delivered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var message in messages)
        {
            try
            {
                await DeliverAsync(source.Id, message);
                delivered.Add(message.Id);
            }
            catch (Exception ex)
            {
                _logger.LogWarning(ex, "Workflow '{Id}': message '{Kind}' to '{Target}' not delivered; retrying", source.Id, message.Kind, message.Target);
            }
        }
        var retry = false;
        await source.Gate.WaitAsync();
        try
        {
            if (source.Metadata is { } m && delivered.Count > 0)
            {
                var next = Copy(m);
                next.Outbox = m.Outbox.Where(o => !delivered.Contains(o.Id)).ToList();
                await Storage.Store.TransactAsync([Storage.SetMetadata(source.Id, next)], CancellationToken.None);
                source.Metadata = next;
            }
            retry = source.Metadata is { Outbox.Count: > 0 } && delivered.Count < messages.Count;
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "Workflow '{Id}': the outbox could not be updated", source.Id);
        }
        finally
        {
            source.Gate.Release();
        }
        if (retry)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            _ = DeliverOutboxAsync(source);
        }
    }

    private async Task DeliverAsync(string sourceId, OutboxMessage message)
    {
        switch (message.Kind)
        {
            case "start":
            {
                var start = WorkflowStorage.DecodeEvent(message.Event!);
                var parentId = start.ExecutionStarted.ParentInstance?.WorkflowInstance?.InstanceId;
                try
                {
                    if (_instances.TryGetValue(message.Target, out var existing) && existing.Metadata is { } em && parentId is not null && em.ParentInstanceId == parentId && !em.IsTerminal)
                    {
                        return; // started already (a redelivery)
                    }
                    await CreateAsync(message.Target, start, CancellationToken.None);
                }
                catch (WorkflowException ex) when (parentId is not null && ex.Status == StatusCode.Unknown)
                {
                    var failed = new HistoryEvent
                    {
                        EventId = -1,
                        Timestamp = Timestamp.FromDateTime(Now),
                        ChildWorkflowInstanceFailed = new ChildWorkflowInstanceFailedEvent
                        {
                            TaskScheduledId = start.ExecutionStarted.ParentInstance!.TaskScheduledId,
                            FailureDetails = new TaskFailureDetails { ErrorType = "WorkflowCreationFailed", ErrorMessage = ex.Message, IsNonRetriable = true },
                        },
                    };
                    await AddToInboxAsync(sourceId, [failed], null, CancellationToken.None);
                }
                break;
            }
            case "event":
            {
                var e = WorkflowStorage.DecodeEvent(message.Event!);
                var answered = e.ChildWorkflowInstanceCompleted?.TaskScheduledId ?? e.ChildWorkflowInstanceFailed?.TaskScheduledId;
                await AddToInboxAsync(message.Target, [e], answered is null ? null : instance =>
                    instance.History!.Concat(instance.Inbox.Select(i => i.Event)).Any(x =>
                        (x.ChildWorkflowInstanceCompleted?.TaskScheduledId ?? x.ChildWorkflowInstanceFailed?.TaskScheduledId) == answered), CancellationToken.None);
                break;
            }
            case "terminate":
                await TerminateInstanceAsync(message.Target, message.Reason, message.Recursive, CancellationToken.None);
                break;
        }
    }

    /// <summary>Every field (a test checks that none is forgotten: a lost PurgeAt once kept finished child workflows for ever).</summary>
    internal static InstanceMetadata Copy(InstanceMetadata m) => new()
    {
        Name = m.Name,
        Status = m.Status,
        CreatedAt = m.CreatedAt,
        LastUpdatedAt = m.LastUpdatedAt,
        CompletedAt = m.CompletedAt,
        PurgeAt = m.PurgeAt,
        StartedAt = m.StartedAt,
        ScheduledStartAt = m.ScheduledStartAt,
        Input = m.Input,
        Output = m.Output,
        FailureDetails = m.FailureDetails,
        ExecutionId = m.ExecutionId,
        ParentInstanceId = m.ParentInstanceId,
        Generation = m.Generation,
        HistoryLength = m.HistoryLength,
        Inbox = [.. m.Inbox],
        NextInboxSeq = m.NextInboxSeq,
        HasCustomStatus = m.HasCustomStatus,
        Outbox = [.. m.Outbox],
    };

    public async ValueTask DisposeAsync() => await _timers.DisposeAsync();
}
