using Dapr.DurableTask.Protobuf;

namespace DaprShop.Sidecar.Workflows;

/// <summary>A turn sent to the worker: the inbox rows it delivers and the request as sent (re-sent as is after a reconnect).</summary>
internal sealed record WorkflowTurn(string Token, IReadOnlyList<long> DeliveredSeqs, IReadOnlyList<HistoryEvent> NewEvents, WorkflowRequest Request);

/// <summary>
/// The in-memory side of one instance id. Every change happens under <see cref="Gate"/> and is persisted before
/// it is visible. <see cref="Metadata"/> null means the id holds no instance (never created, or purged).
/// A finished instance keeps only its metadata in memory; its history is read again when asked for.
/// </summary>
internal sealed class InstanceRecord(string id)
{
    public string Id { get; } = id;
    public SemaphoreSlim Gate { get; } = new(1, 1);
    public InstanceMetadata? Metadata { get; set; }
    public List<HistoryEvent>? History { get; set; }
    public List<(long Seq, HistoryEvent Event)> Inbox { get; set; } = [];
    /// <summary>
    /// Inbox rows held only in memory until the turn that delivers them is saved: activity results. Lost in a crash,
    /// they cost a second run of the activity (at-least-once, as Dapr documents activities), not a lost step.
    /// </summary>
    public HashSet<long> Unsaved { get; } = [];
    public string? CustomStatus { get; set; }
    public bool Loaded { get; set; }
    public WorkflowTurn? InFlight { get; set; }
    /// <summary>A STALLED instance is offered one more turn (set when a worker connects, and at start-up).</summary>
    public bool RetryStalled { get; set; }
    public long TurnCounter { get; set; }
    /// <summary>Activities scheduled and not yet answered: task id → its TaskScheduled event.</summary>
    public Dictionary<int, HistoryEvent> Activities { get; } = [];
    /// <summary>Timers created and not yet fired (by TimerCreated event id).</summary>
    public HashSet<int> Timers { get; } = [];
    /// <summary>Completed (and replaced) at every change of status, for the Wait* calls.</summary>
    public TaskCompletionSource Changed { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void NotifyChanged()
    {
        var previous = Changed;
        Changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        previous.TrySetResult();
    }

    public bool Exists => Metadata is not null;
}
