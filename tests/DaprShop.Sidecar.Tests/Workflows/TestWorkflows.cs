using Dapr.Workflow;

namespace DaprShop.Sidecar.Tests.Workflows;

public sealed record ConcatInput(string Accumulated, string Next);

public sealed class ConcatActivity(ActivityLog log) : WorkflowActivity<ConcatInput, string>
{
    public override Task<string> RunAsync(WorkflowActivityContext context, ConcatInput input)
    {
        log.Record($"concat:{context.InstanceId}");
        return Task.FromResult(input.Accumulated + input.Next);
    }
}

/// <summary>Three activities in a row, each fed the previous result.</summary>
public sealed class ChainWorkflow : Workflow<string, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, string input)
    {
        var result = input;
        foreach (var next in new[] { "-a", "-b", "-c" })
        {
            result = await context.CallActivityAsync<string>(nameof(ConcatActivity), new ConcatInput(result, next));
        }
        return result;
    }
}

/// <summary>Fails its first two attempts for a key, then answers.</summary>
public sealed class FlakyActivity(ActivityLog log) : WorkflowActivity<string, string>
{
    public override Task<string> RunAsync(WorkflowActivityContext context, string key)
    {
        var attempt = log.Record($"flaky:{key}");
        if (attempt < 3)
        {
            throw new InvalidOperationException($"attempt {attempt} fails on purpose");
        }
        return Task.FromResult($"succeeded on attempt {attempt}");
    }
}

public sealed class RetryWorkflow : Workflow<string, string>
{
    public override Task<string> RunAsync(WorkflowContext context, string key) =>
        context.CallActivityAsync<string>(nameof(FlakyActivity), key,
            new WorkflowTaskOptions(new WorkflowRetryPolicy(maxNumberOfAttempts: 5, firstRetryInterval: TimeSpan.FromMilliseconds(200))));
}

/// <summary>Sleeps on a durable timer and reports the workflow clock before and after.</summary>
public sealed class TimerWorkflow : Workflow<int, double>
{
    public override async Task<double> RunAsync(WorkflowContext context, int seconds)
    {
        var before = context.CurrentUtcDateTime;
        await context.CreateTimer(TimeSpan.FromSeconds(seconds));
        return (context.CurrentUtcDateTime - before).TotalSeconds;
    }
}

public sealed class EventWorkflow : Workflow<string, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, string input)
    {
        var approval = await context.WaitForExternalEventAsync<string>("approval");
        return $"{input}:{approval}";
    }
}

public sealed class EventWithTimeoutWorkflow : Workflow<int, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, int timeoutSeconds)
    {
        try
        {
            return "received " + await context.WaitForExternalEventAsync<string>("approval", TimeSpan.FromSeconds(timeoutSeconds));
        }
        catch (TaskCanceledException)
        {
            return "timed out";
        }
    }
}

public sealed class ChildWorkflow : Workflow<string, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, string input) =>
        "child(" + await context.CallActivityAsync<string>(nameof(ConcatActivity), new ConcatInput(input, "+1")) + ")";
}

public sealed class ParentWorkflow : Workflow<string, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, string input) =>
        "parent(" + await context.CallChildWorkflowAsync<string>(nameof(ChildWorkflow), input) + ")";
}

/// <summary>Starts an <see cref="EventWorkflow"/> child under the id it is given and ends without waiting for it.</summary>
public sealed class DetachedChildWorkflow : Workflow<string, string>
{
    public override Task<string> RunAsync(WorkflowContext context, string childId)
    {
        _ = context.CallChildWorkflowAsync<string>(nameof(EventWorkflow), "child", new ChildWorkflowTaskOptions { InstanceId = childId });
        return Task.FromResult("left " + childId);
    }
}

public sealed class SquareActivity(ActivityLog log) : WorkflowActivity<int, int>
{
    public override Task<int> RunAsync(WorkflowActivityContext context, int input)
    {
        // The trace the activity runs in, for the tracing test (empty when the worker started no span).
        log.Traces[context.InstanceId] = System.Diagnostics.Activity.Current?.TraceId.ToString() ?? "";
        return Task.FromResult(input * input);
    }
}

/// <summary>Runs n activities at once and sums their answers.</summary>
public sealed class FanOutWorkflow : Workflow<int, int>
{
    public override async Task<int> RunAsync(WorkflowContext context, int count)
    {
        var tasks = Enumerable.Range(1, count).Select(i => context.CallActivityAsync<int>(nameof(SquareActivity), i)).ToList();
        var results = await Task.WhenAll(tasks);
        return results.Sum();
    }
}

/// <summary>Continues as new until its counter reaches the target; an event raised meanwhile is carried over.</summary>
public sealed class CounterWorkflow : Workflow<int[], string>
{
    public override async Task<string> RunAsync(WorkflowContext context, int[] state)
    {
        var (counter, target) = (state[0], state[1]);
        if (counter < target)
        {
            context.ContinueAsNew(new[] { counter + 1, target });
            return "";
        }
        var extra = await context.WaitForExternalEventAsync<string>("finish");
        return $"{counter}:{extra}";
    }
}

public sealed class BoomActivity : WorkflowActivity<string, string>
{
    public override Task<string> RunAsync(WorkflowActivityContext context, string input) =>
        throw new InvalidOperationException($"boom: {input}");
}

public sealed class FailingWorkflow : Workflow<string, string>
{
    public override Task<string> RunAsync(WorkflowContext context, string input) =>
        context.CallActivityAsync<string>(nameof(BoomActivity), input);
}

public sealed class StepActivity(ActivityLog log) : WorkflowActivity<string, string>
{
    public override async Task<string> RunAsync(WorkflowActivityContext context, string step)
    {
        await log.Gate($"{context.InstanceId}:{step}");
        log.Record($"{context.InstanceId}:{step}");
        return step;
    }
}

/// <summary>Step one, wait for "continue", step two: the shape the restart tests interrupt.</summary>
public sealed class StepsWorkflow : Workflow<string, string>
{
    public override async Task<string> RunAsync(WorkflowContext context, string input)
    {
        var one = await context.CallActivityAsync<string>(nameof(StepActivity), "one");
        context.SetCustomStatus("after-one");
        var signal = await context.WaitForExternalEventAsync<string>("continue");
        var two = await context.CallActivityAsync<string>(nameof(StepActivity), "two");
        return $"{one},{signal},{two}";
    }
}

public sealed class SingleActivityWorkflow : Workflow<int, int>
{
    public override Task<int> RunAsync(WorkflowContext context, int input) =>
        context.CallActivityAsync<int>(nameof(SquareActivity), input);
}

/// <summary>
/// What <see cref="WorkflowContext.IsPatched"/> answers before and after an activity, as seen by the turn that completes
/// the workflow: a replay of the first turn, which took the patch.
/// </summary>
public sealed class PatchedWorkflow : Workflow<string, bool[]>
{
    public const string Patch = "concat-with-x";

    public override async Task<bool[]> RunAsync(WorkflowContext context, string input)
    {
        var before = context.IsPatched(Patch);
        await context.CallActivityAsync<string>(nameof(ConcatActivity), new ConcatInput(input, "-x"));
        return [before, context.IsPatched(Patch)];
    }
}

/// <summary>
/// Stands for code deployed while an instance was in flight: the patch check exists only from the second turn on, so
/// the first turn (the "old code") never took it, and the replay must keep the old path.
/// </summary>
public sealed class LatePatchWorkflow : Workflow<string, bool>
{
    public override async Task<bool> RunAsync(WorkflowContext context, string input)
    {
        var patched = context.IsReplaying && context.IsPatched("added-later");
        await context.CallActivityAsync<string>(nameof(ConcatActivity), new ConcatInput(input, "-y"));
        return patched;
    }
}

/// <summary>Calls an activity <c>count</c> times, each answering 8,000 characters, so its history grows by that much a step.</summary>
public sealed class GrowingWorkflow : Workflow<int, int>
{
    public override async Task<int> RunAsync(WorkflowContext context, int count)
    {
        var total = 0;
        for (var i = 0; i < count; i++)
        {
            total += (await context.CallActivityAsync<string>(nameof(PaddingActivity), 8000)).Length;
        }
        return total;
    }
}

public sealed class PaddingActivity : WorkflowActivity<int, string>
{
    public override Task<string> RunAsync(WorkflowActivityContext context, int length) => Task.FromResult(new string('x', length));
}
