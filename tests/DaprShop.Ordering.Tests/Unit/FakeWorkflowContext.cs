using Dapr.Workflow;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DaprShop.Ordering.Tests.Unit;

/// <summary>
/// A hand-written <see cref="WorkflowContext"/>: activities answer from <see cref="Activities"/> (by name) and are
/// recorded in call order; external events complete when the test raises them, or time out when it says so.
/// </summary>
public sealed class FakeWorkflowContext : WorkflowContext
{
    private readonly Dictionary<string, TaskCompletionSource<object?>> _events = [];
    private readonly HashSet<string> _timingOut = [];
    private readonly Dictionary<string, Action> _triggers = [];

    public List<(string Name, object? Input)> Calls { get; } = [];
    public Dictionary<string, Func<object?, object?>> Activities { get; } = [];
    public List<string> AwaitedEvents { get; } = [];
    public List<TimeSpan> EventTimeouts { get; } = [];

    public IEnumerable<string> CallNames => Calls.Select(c => c.Name);

    public override string Name => "CheckoutWorkflow";
    public override string InstanceId => "order-1";
    public override DateTime CurrentUtcDateTime { get; } = new(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
    public override bool IsReplaying => false;

    /// <summary>The event arrives (now if awaited, or as soon as it is).</summary>
    public void Raise(string name, object payload) => Event(name).TrySetResult(payload);

    /// <summary>Raises <paramref name="name"/> once the workflow starts waiting (with a timeout) for <paramref name="awaited"/>.</summary>
    public void RaiseWhileWaitingFor(string awaited, string name, object payload) => _triggers[awaited] = () => Raise(name, payload);

    /// <summary>The event never arrives: its timed wait ends in a timeout.</summary>
    public void TimeOut(string name) => _timingOut.Add(name);

    private TaskCompletionSource<object?> Event(string name)
    {
        if (!_events.TryGetValue(name, out var tcs))
        {
            _events[name] = tcs = new TaskCompletionSource<object?>(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        return tcs;
    }

    public override async Task<T> CallActivityAsync<T>(string name, object? input = null, WorkflowTaskOptions? options = null)
    {
        Calls.Add((name, input));
        await Task.Yield();
        if (!Activities.TryGetValue(name, out var answer))
        {
            return (T)(object)true;
        }
        return (T)answer(input)!;
    }

    public override Task CallActivityAsync(string name, object? input = null, WorkflowTaskOptions? options = null) =>
        CallActivityAsync<object>(name, input, options);

    public override async Task<T> WaitForExternalEventAsync<T>(string eventName, CancellationToken cancellationToken = default)
    {
        AwaitedEvents.Add(eventName);
        return (T)(await Event(eventName).Task)!;
    }

    public override async Task<T> WaitForExternalEventAsync<T>(string eventName, TimeSpan timeout)
    {
        AwaitedEvents.Add(eventName);
        EventTimeouts.Add(timeout);
        if (_triggers.Remove(eventName, out var trigger))
        {
            trigger();
        }
        if (_timingOut.Contains(eventName))
        {
            await Task.Yield();
            throw new TaskCanceledException($"{eventName} timed out");
        }
        return (T)(await Event(eventName).Task)!;
    }

    public override Task CreateTimer(TimeSpan delay, CancellationToken cancellationToken = default) => Task.CompletedTask;
    public override Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken) => Task.CompletedTask;
    public override void SendEvent(string instanceId, string eventName, object payload) => throw new NotSupportedException();
    public override void SetCustomStatus(object? customStatus) { }
    public override Task<TResult> CallChildWorkflowAsync<TResult>(string workflowName, object? input = null, ChildWorkflowTaskOptions? options = null) => throw new NotSupportedException();
    public override Task CallChildWorkflowAsync(string workflowName, object? input = null, ChildWorkflowTaskOptions? options = null) => throw new NotSupportedException();
    public override ILogger CreateReplaySafeLogger(string categoryName) => NullLogger.Instance;
    public override ILogger CreateReplaySafeLogger(Type type) => NullLogger.Instance;
    public override ILogger CreateReplaySafeLogger<T>() => NullLogger<T>.Instance;
    public override void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true) => throw new NotSupportedException();
    public override Guid NewGuid() => Guid.Empty;
    public override bool IsPatched(string patchName) => true;
    public override PropagatedHistory? GetPropagatedHistory() => null;
}
