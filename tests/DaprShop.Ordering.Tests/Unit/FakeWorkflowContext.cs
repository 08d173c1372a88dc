using Dapr.Workflow;
using FluentAssertions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DaprShop.Ordering.Tests.Unit;

/// <summary>
/// A hand-written <see cref="WorkflowContext"/>: activities answer from <see cref="Activities"/> (by name), are
/// recorded in call order and complete in turns (<see cref="RunAsync{T}"/>); external events complete when the test
/// raises them, or time out when it says so.
/// </summary>
public sealed class FakeWorkflowContext : WorkflowContext
{
    private readonly Dictionary<string, TaskCompletionSource<object?>> _events = [];
    private readonly HashSet<string> _timingOut = [];
    private readonly Dictionary<string, Action> _triggers = [];

    // Scheduled and not yet completed: the activities in flight.
    private readonly List<((string Name, object? Input) Call, Action Complete)> _due = [];

    /// <summary>
    /// Runs the workflow in turns, as the engine does: the workflow runs until it waits, then every activity it has
    /// scheduled so far completes (its continuations run inline), and so on until it returns.
    /// </summary>
    public async Task<T> RunAsync<T>(Func<WorkflowContext, Task<T>> workflow)
    {
        var run = workflow(this);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!run.IsCompleted)
        {
            ((string, object?) Call, Action Complete)[] turn;
            lock (_due)
            {
                turn = [.. _due];
                _due.Clear();
            }
            foreach (var (_, complete) in turn)
            {
                complete();
            }
            if (turn.Length == 0)
            {
                // Waiting for an external event or a timeout, which complete on their own.
                DateTime.UtcNow.Should().BeBefore(deadline, "the workflow should not wait forever");
                await Task.Delay(1);
            }
        }
        return await run;
    }

    /// <summary>Every call, in call order, with the calls that were still in flight when it started (scheduled in the same turn).</summary>
    public List<(string Name, object? Input, IReadOnlyList<(string Name, object? Input)> Alongside)> Started { get; } = [];

    public IEnumerable<(string Name, object? Input)> Calls => Started.Select(s => (s.Name, s.Input));
    public Dictionary<string, Func<object?, object?>> Activities { get; } = [];
    public List<string> AwaitedEvents { get; } = [];
    public List<TimeSpan> EventTimeouts { get; } = [];

    /// <summary>Every custom status the workflow set, in order.</summary>
    public List<object?> CustomStatuses { get; } = [];

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
        var result = new TaskCompletionSource<object?>();
        lock (_due)
        {
            Started.Add((name, input, [.. _due.Select(d => d.Call)]));
            _due.Add(((name, input), () =>
            {
                try
                {
                    result.SetResult(Activities.TryGetValue(name, out var answer) ? answer(input) : true);
                }
                catch (Exception e)
                {
                    result.SetException(e);
                }
            }));
        }
        return (T)(await result.Task)!;
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

    /// <summary>Every durable timer the workflow waited on (they fire at once).</summary>
    public List<TimeSpan> Timers { get; } = [];

    public override Task CreateTimer(TimeSpan delay, CancellationToken cancellationToken = default)
    {
        Timers.Add(delay);
        return Task.CompletedTask;
    }

    public override Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken) => Task.CompletedTask;
    public override void SendEvent(string instanceId, string eventName, object payload) => throw new NotSupportedException();
    public override void SetCustomStatus(object? customStatus) => CustomStatuses.Add(customStatus);
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
