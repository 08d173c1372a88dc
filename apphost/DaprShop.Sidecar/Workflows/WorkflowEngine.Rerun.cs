using Dapr.DurableTask.Protobuf;
using DaprShop.Sidecar.Components.State;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace DaprShop.Sidecar.Workflows;

/// <summary>Rerunning a finished instance from an event of its history (Dapr 1.16+ <c>RerunWorkflowFromEvent</c>).</summary>
public sealed partial class WorkflowEngine
{
    /// <summary>
    /// Starts a new instance from a finished one's history, cut at an activity (or a timer) named by its event id,
    /// as daprd does: the history before that event is kept with the activities and timers answered before it; the
    /// event itself — the activity with the new input when one is given — and every activity or timer started before
    /// it and not yet answered run again; nothing after it is kept. Timers run again fire at once.
    /// </summary>
    public async Task<string> RerunAsync(RerunWorkflowFromEventRequest request, CancellationToken ct)
    {
        await ReadyAsync(ct);
        var sourceId = request.SourceInstanceID;
        InstanceMetadata? source = null;
        List<HistoryEvent> history = [];
        if (_instances.TryGetValue(sourceId, out var record))
        {
            await record.Gate.WaitAsync(ct);
            try
            {
                source = record.Metadata;
                if (source is not null)
                {
                    if (!source.IsTerminal)
                    {
                        throw new WorkflowException(StatusCode.InvalidArgument, $"'{sourceId}' is not in a terminal state");
                    }
                    history = record.Loaded
                        ? record.History!.Select(e => e.Clone()).ToList()
                        : await Storage.ReadHistoryAsync(sourceId, source.HistoryLength, ct);
                }
            }
            finally
            {
                record.Gate.Release();
            }
        }
        if (source is null)
        {
            throw new WorkflowException(StatusCode.NotFound, $"workflow instance does not exist with ID '{sourceId}'");
        }

        var (kept, again) = Fork(history, request.EventID, request.OverwriteInput, request.Input);
        var newId = request.HasNewInstanceID && request.NewInstanceID.Length > 0 ? request.NewInstanceID : Guid.NewGuid().ToString();
        await CreateRerunAsync(newId, source, kept, again, ct);
        return newId;
    }

    /// <summary>
    /// The history the new instance keeps, and the events to run again (the target first). An activity or timer
    /// answered before the target (completed, failed, fired) is kept together with its answer, in the answer's place.
    /// </summary>
    internal static (List<HistoryEvent> Kept, List<HistoryEvent> Again) Fork(IReadOnlyList<HistoryEvent> history, uint eventId, bool overwriteInput, string? input)
    {
        var kept = new List<HistoryEvent>();
        var open = new List<HistoryEvent>();
        HistoryEvent? target = null;
        foreach (var e in history)
        {
            if (e.EventId >= 0 && (uint)e.EventId == eventId)
            {
                target = e.Clone();
                break;
            }
            switch (e.EventTypeCase)
            {
                case HistoryEvent.EventTypeOneofCase.TaskScheduled or HistoryEvent.EventTypeOneofCase.TimerCreated:
                    open.Add(e);
                    break;
                case HistoryEvent.EventTypeOneofCase.TaskCompleted:
                    Answered(e.TaskCompleted.TaskScheduledId, e);
                    break;
                case HistoryEvent.EventTypeOneofCase.TaskFailed:
                    Answered(e.TaskFailed.TaskScheduledId, e);
                    break;
                case HistoryEvent.EventTypeOneofCase.TimerFired:
                    Answered(e.TimerFired.TimerId, e);
                    break;
                default:
                    kept.Add(e);
                    break;
            }
        }

        void Answered(int startedId, HistoryEvent answer)
        {
            var started = open.FindIndex(o => o.EventId == startedId);
            if (started >= 0)
            {
                kept.Add(open[started]);
                open.RemoveAt(started);
            }
            kept.Add(answer);
        }

        switch (target?.EventTypeCase)
        {
            case null:
                throw new WorkflowException(StatusCode.NotFound, $"does not have history event with ID '{eventId}'");
            case HistoryEvent.EventTypeOneofCase.TaskScheduled:
                if (overwriteInput)
                {
                    target.TaskScheduled.Input = input;
                }
                break;
            case HistoryEvent.EventTypeOneofCase.TimerCreated:
                if (overwriteInput)
                {
                    throw new WorkflowException(StatusCode.InvalidArgument, $"cannot write input to timer event '{eventId}'");
                }
                break;
            default:
                throw new WorkflowException(StatusCode.NotFound, $"target event '{target.EventTypeCase}' with ID '{eventId}' is not an event that can be rerun");
        }
        return (kept, [target, .. open.Select(o => o.Clone())]);
    }

    /// <summary>Saves the new instance (refusing an id that holds one, finished or not, as daprd does) and sets its work going.</summary>
    private async Task CreateRerunAsync(string id, InstanceMetadata source, List<HistoryEvent> kept, List<HistoryEvent> again, CancellationToken ct)
    {
        var storage = Storage;
        var instance = _instances.GetOrAdd(id, static i => new InstanceRecord(i));
        await instance.Gate.WaitAsync(ct);
        try
        {
            if (instance.Metadata is not null)
            {
                throw new WorkflowException(StatusCode.AlreadyExists, $"workflow '{id}' has already been created");
            }
            var now = Now;
            var timestamp = Timestamp.FromDateTime(now);
            var executionId = Guid.NewGuid().ToString("N");
            var history = kept.Select(e => e.Clone()).ToList();
            var started = history.FirstOrDefault(e => e.ExecutionStarted is not null)?.ExecutionStarted;
            if (started is not null)
            {
                started.WorkflowInstance = new WorkflowInstance { InstanceId = id, ExecutionId = executionId };
            }
            var inbox = new List<(long Seq, HistoryEvent Event)>();
            foreach (var e in again)
            {
                e.Timestamp = timestamp;
                history.Add(e);
                if (e.TimerCreated is not null)
                {
                    inbox.Add((inbox.Count, new HistoryEvent
                    {
                        EventId = -1,
                        Timestamp = timestamp,
                        TimerFired = new TimerFiredEvent { TimerId = e.EventId, FireAt = e.TimerCreated.FireAt },
                    }));
                }
            }
            var metadata = new InstanceMetadata
            {
                Name = source.Name,
                RuntimeStatus = OrchestrationStatus.Running,
                CreatedAt = now,
                StartedAt = now,
                LastUpdatedAt = now,
                Input = started?.Input ?? source.Input,
                ExecutionId = executionId,
                ParentInstanceId = started?.ParentInstance?.WorkflowInstance?.InstanceId,
                HistoryLength = history.Count,
                Inbox = [.. inbox.Select(i => i.Seq)],
                NextInboxSeq = inbox.Count,
            };
            var ops = new List<StateOperation>(history.Count + inbox.Count + 1);
            ops.AddRange(history.Select((e, i) => (StateOperation)WorkflowStorage.Set(storage.HistoryKey(id, i), e.ToByteArray())));
            ops.AddRange(inbox.Select(i => (StateOperation)WorkflowStorage.Set(storage.InboxKey(id, i.Seq), i.Event.ToByteArray())));
            ops.Add(storage.SetMetadata(id, metadata));
            await WriteWithIndexAsync(id, add: true, ops, ct);

            instance.Metadata = metadata;
            instance.History = history;
            instance.Inbox = inbox;
            instance.Unsaved.Clear();
            instance.CustomStatus = null;
            instance.Loaded = true;
            instance.InFlight = null;
            // The activities to run again are the history's unanswered TaskScheduled events: dispatched as after a restart.
            Rearm(instance);
            TrySchedule(instance);
            instance.NotifyChanged();
        }
        finally
        {
            instance.Gate.Release();
        }
    }
}
