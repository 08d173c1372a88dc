using System.Collections.Concurrent;
using Dapr.DurableTask.Protobuf;
using DaprShop.Sidecar.Components.State;
using DaprShop.Sidecar.Hosting;
using DaprShop.Sidecar.Runtime;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace DaprShop.Sidecar.Workflows;

/// <summary>Applying an orchestration turn: the worker's actions become history, pending work and outbox messages.</summary>
public sealed partial class WorkflowEngine
{
    /// <summary>Turns the worker's actions into history and pending work, and saves all of it in one transaction.</summary>
    private async Task<bool> ApplyTurnAsync(InstanceRecord instance, WorkflowTurn turn, WorkflowResponse response, CancellationToken ct)
    {
        if (StallOf(response) is { } stalled)
        {
            return await ApplyStallAsync(instance, stalled, ct);
        }
        var storage = Storage;
        var id = instance.Id;
        var m = instance.Metadata!;
        var now = Now;
        var next = Copy(m);
        var added = new List<HistoryEvent>(turn.NewEvents);
        if (response.Version is { } version && added.Count > 0 && added[0].WorkflowStarted is not null)
        {
            // As daprd does, the turn's version (the workflow's version name, the patches the turn evaluated) is kept on
            // its OrchestratorStarted event: replays read it back, so IsPatched and named versions stay deterministic.
            // A copy: the event already sent with the request must not change under a redelivery.
            var started = added[0].Clone();
            started.WorkflowStarted.Version = version;
            added[0] = started;
        }
        var newActivities = new List<HistoryEvent>();
        var newTimers = new List<(int Id, Timestamp FireAt)>();
        var outbox = new List<OutboxMessage>();
        var remainingInbox = instance.Inbox.Where(i => !turn.DeliveredSeqs.Contains(i.Seq)).ToList();
        var newInbox = new List<(long Seq, HistoryEvent Event)>();
        var continuedAsNew = false;
        var timestamp = Timestamp.FromDateTime(now);
        var executionStarted = instance.History!.Concat(turn.NewEvents).LastOrDefault(e => e.ExecutionStarted is not null)?.ExecutionStarted;

        if (next.RuntimeStatus == OrchestrationStatus.Pending)
        {
            next.RuntimeStatus = OrchestrationStatus.Running;
            next.StartedAt = now;
        }
        else if (next.RuntimeStatus == OrchestrationStatus.Stalled)
        {
            // A worker took the turn an earlier one could not: the instance runs again (started now if it stalled at once).
            next.RuntimeStatus = OrchestrationStatus.Running;
            next.StartedAt ??= now;
        }

        foreach (var action in response.Actions)
        {
            switch (action.WorkflowActionTypeCase)
            {
                case WorkflowAction.WorkflowActionTypeOneofCase.ScheduleTask:
                {
                    var a = action.ScheduleTask;
                    var e = new HistoryEvent
                    {
                        EventId = action.Id,
                        Timestamp = timestamp,
                        TaskScheduled = new TaskScheduledEvent { Name = a.Name, Version = a.Version, Input = a.Input, TaskExecutionId = a.TaskExecutionId },
                        Router = a.Router ?? action.Router,
                    };
                    if (a.HasHistoryPropagationScope)
                    {
                        e.TaskScheduled.HistoryPropagationScope = a.HistoryPropagationScope;
                    }
                    added.Add(e);
                    newActivities.Add(e);
                    break;
                }
                case WorkflowAction.WorkflowActionTypeOneofCase.CreateTimer:
                {
                    var a = action.CreateTimer;
                    var created = new TimerCreatedEvent { FireAt = a.FireAt };
                    if (a.HasName) { created.Name = a.Name; }
                    switch (a.OriginCase)
                    {
                        case CreateTimerAction.OriginOneofCase.CreateTimer: created.CreateTimer = a.CreateTimer; break;
                        case CreateTimerAction.OriginOneofCase.ExternalEvent: created.ExternalEvent = a.ExternalEvent; break;
                        case CreateTimerAction.OriginOneofCase.ActivityRetry: created.ActivityRetry = a.ActivityRetry; break;
                        case CreateTimerAction.OriginOneofCase.ChildWorkflowRetry: created.ChildWorkflowRetry = a.ChildWorkflowRetry; break;
                    }
                    added.Add(new HistoryEvent { EventId = action.Id, Timestamp = timestamp, TimerCreated = created, Router = action.Router });
                    newTimers.Add((action.Id, a.FireAt));
                    break;
                }
                case WorkflowAction.WorkflowActionTypeOneofCase.CreateChildWorkflow:
                {
                    var a = action.CreateChildWorkflow;
                    var childId = string.IsNullOrEmpty(a.InstanceId) ? Guid.NewGuid().ToString("N") : a.InstanceId;
                    var created = new ChildWorkflowInstanceCreatedEvent { InstanceId = childId, Name = a.Name, Version = a.Version, Input = a.Input };
                    if (a.HasHistoryPropagationScope) { created.HistoryPropagationScope = a.HistoryPropagationScope; }
                    added.Add(new HistoryEvent { EventId = action.Id, Timestamp = timestamp, ChildWorkflowInstanceCreated = created, Router = a.Router ?? action.Router });
                    var childStart = new HistoryEvent
                    {
                        EventId = -1,
                        Timestamp = timestamp,
                        ExecutionStarted = new ExecutionStartedEvent
                        {
                            Name = a.Name,
                            Version = a.Version,
                            Input = a.Input,
                            WorkflowInstance = new WorkflowInstance { InstanceId = childId },
                            ParentInstance = new ParentInstanceInfo
                            {
                                TaskScheduledId = action.Id,
                                Name = m.Name,
                                WorkflowInstance = new WorkflowInstance { InstanceId = id, ExecutionId = m.ExecutionId },
                                AppID = _options.AppId,
                            },
                            ParentTraceContext = executionStarted?.ParentTraceContext,
                        },
                        Router = new TaskRouter { SourceAppID = _options.AppId },
                    };
                    outbox.Add(new OutboxMessage(NewMessageId(), "start", childId, WorkflowStorage.Encode(childStart)));
                    break;
                }
                case WorkflowAction.WorkflowActionTypeOneofCase.CreateDetachedWorkflow:
                {
                    var a = action.CreateDetachedWorkflow;
                    var detachedId = string.IsNullOrEmpty(a.InstanceId) ? Guid.NewGuid().ToString("N") : a.InstanceId;
                    added.Add(new HistoryEvent { EventId = action.Id, Timestamp = timestamp, DetachedWorkflowInstanceCreated = new DetachedWorkflowInstanceCreatedEvent { InstanceId = detachedId }, Router = a.Router ?? action.Router });
                    var start = ExecutionStarted(detachedId, timestamp, a.Name, a.Version, a.Input, a.ScheduledStartTimestamp, a.ParentTraceContext, a.Tags);
                    outbox.Add(new OutboxMessage(NewMessageId(), "start", detachedId, WorkflowStorage.Encode(start)));
                    break;
                }
                case WorkflowAction.WorkflowActionTypeOneofCase.SendEvent:
                {
                    var a = action.SendEvent;
                    added.Add(new HistoryEvent { EventId = action.Id, Timestamp = timestamp, EventSent = new EventSentEvent { InstanceId = a.Instance?.InstanceId ?? "", Name = a.Name, Input = a.Data }, Router = action.Router });
                    var raised = new HistoryEvent { EventId = -1, Timestamp = timestamp, EventRaised = new EventRaisedEvent { Name = a.Name, Input = a.Data } };
                    outbox.Add(new OutboxMessage(NewMessageId(), "event", a.Instance?.InstanceId ?? "", WorkflowStorage.Encode(raised)));
                    break;
                }
                case WorkflowAction.WorkflowActionTypeOneofCase.TerminateWorkflow:
                {
                    var a = action.TerminateWorkflow;
                    outbox.Add(new OutboxMessage(NewMessageId(), "terminate", a.InstanceId, null, a.Reason, a.Recurse));
                    break;
                }
                case WorkflowAction.WorkflowActionTypeOneofCase.CompleteWorkflow:
                {
                    var a = action.CompleteWorkflow;
                    if (a.WorkflowStatus == OrchestrationStatus.ContinuedAsNew)
                    {
                        continuedAsNew = true;
                        next.Generation = m.Generation + 1;
                        next.ExecutionId = Guid.NewGuid().ToString("N");
                        next.Input = a.Result;
                        next.Output = null;
                        next.FailureDetails = null;
                        var restart = new HistoryEvent
                        {
                            EventId = -1,
                            Timestamp = timestamp,
                            ExecutionStarted = new ExecutionStartedEvent
                            {
                                Name = m.Name,
                                Version = a.NewVersion ?? executionStarted?.Version,
                                Input = a.Result,
                                WorkflowInstance = new WorkflowInstance { InstanceId = id, ExecutionId = next.ExecutionId },
                                ParentInstance = executionStarted?.ParentInstance,
                                ParentTraceContext = executionStarted?.ParentTraceContext,
                            },
                            Router = new TaskRouter { SourceAppID = _options.AppId },
                        };
                        if (executionStarted is not null) { restart.ExecutionStarted.Tags.Add(executionStarted.Tags); }
                        newInbox.Add((0, restart));
                        newInbox.AddRange(a.CarryoverEvents.Select(c => (0L, c)));
                    }
                    else
                    {
                        var completed = new ExecutionCompletedEvent { WorkflowStatus = a.WorkflowStatus, Result = a.Result, FailureDetails = a.FailureDetails };
                        added.Add(new HistoryEvent { EventId = action.Id, Timestamp = timestamp, ExecutionCompleted = completed });
                        Finish(id, next, a.WorkflowStatus, a.Result, a.FailureDetails, now);
                        if (executionStarted?.ParentInstance is { } parent)
                        {
                            outbox.Add(ParentNotification(parent, a.WorkflowStatus, a.Result, a.FailureDetails, timestamp));
                        }
                    }
                    break;
                }
            }
        }

        // One transaction: new history rows, delivered inbox rows removed, new inbox rows, custom status, metadata.
        var ops = new List<StateOperation>();
        var history = instance.History!;
        var historyLength = m.HistoryLength;
        if (continuedAsNew)
        {
            for (var i = 0; i < m.HistoryLength; i++)
            {
                ops.Add(WorkflowStorage.Delete(storage.HistoryKey(id, i)));
            }
            history = [];
            historyLength = 0;
        }
        else
        {
            history = [.. history, .. added];
            for (var i = 0; i < added.Count; i++)
            {
                ops.Add(WorkflowStorage.Set(storage.HistoryKey(id, historyLength + i), added[i].ToByteArray()));
            }
            historyLength += added.Count;
        }
        ops.AddRange(turn.DeliveredSeqs.Where(seq => !instance.Unsaved.Contains(seq)).Select(seq => WorkflowStorage.Delete(storage.InboxKey(id, seq))));
        var inboxSeq = m.NextInboxSeq;
        var inbox = new List<(long Seq, HistoryEvent Event)>(remainingInbox);
        foreach (var (_, e) in newInbox)
        {
            ops.Add(WorkflowStorage.Set(storage.InboxKey(id, inboxSeq), e.ToByteArray()));
            inbox.Add((inboxSeq++, e));
        }
        if (next.IsTerminal)
        {
            // Nothing waiting in the inbox of a finished instance will ever be delivered.
            ops.AddRange(inbox.Where(i => !instance.Unsaved.Contains(i.Seq)).Select(i => WorkflowStorage.Delete(storage.InboxKey(id, i.Seq))));
            inbox.Clear();
        }
        var customStatus = response.CustomStatus;
        if (customStatus is not null)
        {
            ops.Add(WorkflowStorage.Set(storage.CustomStatusKey(id), System.Text.Encoding.UTF8.GetBytes(customStatus)));
        }
        else if (m.HasCustomStatus)
        {
            ops.Add(WorkflowStorage.Delete(storage.CustomStatusKey(id)));
        }
        next.HasCustomStatus = customStatus is not null;
        next.HistoryLength = historyLength;
        next.Inbox = inbox.Where(i => !instance.Unsaved.Contains(i.Seq)).Select(i => i.Seq).ToList();
        next.NextInboxSeq = inboxSeq;
        next.LastUpdatedAt = now;
        next.Outbox = [.. m.Outbox, .. outbox];
        ops.Add(storage.SetMetadata(id, next));
        await storage.Store.TransactAsync(ops, ct);

        if (next.IsTerminal)
        {
            _metrics.Execution(next.Name, next.RuntimeStatus == OrchestrationStatus.Completed ? Tracing.WorkflowMetrics.Success : Tracing.WorkflowMetrics.Failed, SinceFirstTurn(history, now));
        }

        // Saved: make it visible, then start what the turn scheduled.
        instance.Metadata = next;
        instance.History = history;
        instance.Inbox = inbox;
        instance.Unsaved.IntersectWith(inbox.Select(i => i.Seq));
        instance.CustomStatus = customStatus;
        instance.InFlight = null;
        if (continuedAsNew || next.IsTerminal)
        {
            instance.Activities.Clear();
            instance.Timers.Clear();
        }
        if (!continuedAsNew && !next.IsTerminal)
        {
            foreach (var e in newActivities)
            {
                instance.Activities[e.EventId] = e;
                DispatchActivity(instance, e);
            }
            foreach (var (timerId, fireAt) in newTimers)
            {
                ArmTimer(instance, timerId, fireAt);
            }
        }
        if (next.IsTerminal)
        {
            // Keep only the summary of a finished instance in memory.
            instance.Loaded = false;
            instance.History = null;
            instance.Inbox = [];
        }
        TrySchedule(instance);
        instance.NotifyChanged();
        return next.Outbox.Count > 0;
    }

    /// <summary>daprd's execution latency: from the instance's first turn (its first OrchestratorStarted) to <paramref name="now"/>.</summary>
    private static TimeSpan? SinceFirstTurn(IEnumerable<HistoryEvent> history, DateTime now) =>
        history.FirstOrDefault(e => e.WorkflowStarted is not null) is { } first ? now - first.Timestamp.ToDateTime() : null;

    /// <summary>The stall a turn reports (its worker lacks a workflow version or a patch the history names), if it does.</summary>
    private static ExecutionStalledEvent? StallOf(WorkflowResponse response)
    {
        foreach (var action in response.Actions)
        {
            if (action.WorkflowVersionNotAvailable is not null)
            {
                return new ExecutionStalledEvent { Reason = StalledReason.VersionNotAvailable };
            }
            if (action.CompleteWorkflow is { WorkflowStatus: OrchestrationStatus.Stalled } stall)
            {
                return new ExecutionStalledEvent { Reason = StalledReason.PatchMismatch, Description = stall.Details ?? "" };
            }
        }
        return null;
    }

    /// <summary>
    /// A turn the worker could not take, e.g. a replica with older code during a rollout: none of its actions apply, its
    /// events wait in the inbox again, the history records the stall, and the instance is STALLED until a worker
    /// connects (daprd's recovery: the turn is offered again then, and a worker with the newer code takes it).
    /// </summary>
    private async Task<bool> ApplyStallAsync(InstanceRecord instance, ExecutionStalledEvent stalled, CancellationToken ct)
    {
        var storage = Storage;
        var id = instance.Id;
        var m = instance.Metadata!;
        var now = Now;
        var next = Copy(m);
        var e = new HistoryEvent { EventId = -1, Timestamp = Timestamp.FromDateTime(now), ExecutionStalled = stalled };
        var ops = new List<StateOperation> { WorkflowStorage.Set(storage.HistoryKey(id, m.HistoryLength), e.ToByteArray()) };
        // Activity results wait in memory for the turn that saves them; this one saves nothing else, so they are saved here.
        ops.AddRange(instance.Inbox.Where(i => instance.Unsaved.Contains(i.Seq)).Select(i => WorkflowStorage.Set(storage.InboxKey(id, i.Seq), i.Event.ToByteArray())));
        next.RuntimeStatus = OrchestrationStatus.Stalled;
        next.HistoryLength = m.HistoryLength + 1;
        next.Inbox = [.. instance.Inbox.Select(i => i.Seq)];
        next.LastUpdatedAt = now;
        ops.Add(storage.SetMetadata(id, next));
        await storage.Store.TransactAsync(ops, ct);

        instance.Metadata = next;
        instance.History = [.. instance.History!, e];
        instance.Unsaved.Clear();
        instance.InFlight = null;
        instance.RetryStalled = false;
        _logger.LogWarning("Workflow '{Id}' stalled ({Reason}: {Description}); it is retried when a worker connects", id, stalled.Reason, stalled.Description);
        instance.NotifyChanged();
        return false;
    }

    /// <summary>
    /// Marks the instance finished and, under a state retention policy, when it is to be purged. The purge timer is
    /// armed before the change is saved: if saving fails, it finds the instance unfinished and does nothing.
    /// </summary>
    private void Finish(string id, InstanceMetadata metadata, OrchestrationStatus status, string? output, TaskFailureDetails? failure, DateTime now)
    {
        metadata.RuntimeStatus = status;
        metadata.Output = output;
        metadata.FailureDetails = failure is null ? null : WorkflowStorage.Encode(failure);
        metadata.CompletedAt = now;
        var keep = _retention?.For(status);
        metadata.PurgeAt = keep is { } k ? now + k : null;
        if (metadata.PurgeAt is { } at)
        {
            _timers.Schedule(new DueTimer(id, metadata.Generation, RetentionTimerId, at));
        }
    }

    private static OutboxMessage ParentNotification(ParentInstanceInfo parent, OrchestrationStatus status, string? result, TaskFailureDetails? failure, Timestamp timestamp)
    {
        var e = new HistoryEvent { EventId = -1, Timestamp = timestamp };
        if (status == OrchestrationStatus.Completed)
        {
            e.ChildWorkflowInstanceCompleted = new ChildWorkflowInstanceCompletedEvent { TaskScheduledId = parent.TaskScheduledId, Result = result };
        }
        else
        {
            e.ChildWorkflowInstanceFailed = new ChildWorkflowInstanceFailedEvent
            {
                TaskScheduledId = parent.TaskScheduledId,
                FailureDetails = failure ?? new TaskFailureDetails
                {
                    ErrorType = status == OrchestrationStatus.Terminated ? "WorkflowTerminated" : "WorkflowFailed",
                    ErrorMessage = status == OrchestrationStatus.Terminated ? "the child workflow was terminated" : $"the child workflow ended with status {status}",
                },
            };
        }
        return new OutboxMessage(NewMessageId(), "event", parent.WorkflowInstance.InstanceId, WorkflowStorage.Encode(e));
    }
}
