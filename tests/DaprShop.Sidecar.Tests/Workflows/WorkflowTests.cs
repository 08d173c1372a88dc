using Dapr.Workflow;
using FluentAssertions;
using Grpc.Core;

namespace DaprShop.Sidecar.Tests.Workflows;

/// <summary>Dapr.Workflow 1.18.7's worker and client against the real sidecar process (in-memory actor state store).</summary>
public sealed class WorkflowTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private WorkflowHost _host = null!;

    public async Task InitializeAsync() => _host = await WorkflowHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private DaprWorkflowClient Client => _host.Client;

    private async Task<WorkflowState> RunAsync(string workflow, object? input, string? id = null)
    {
        id = await Client.ScheduleNewWorkflowAsync(workflow, id, input);
        using var cts = new CancellationTokenSource(Timeout);
        return await Client.WaitForWorkflowCompletionAsync(id, cancellation: cts.Token);
    }

    [Fact]
    public async Task Chained_activities_run_in_order_and_the_caller_reads_the_output()
    {
        var state = await RunAsync(nameof(ChainWorkflow), "start", "chain-1");

        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
        state.ReadOutputAs<string>().Should().Be("start-a-b-c");
        state.ReadInputAs<string>().Should().Be("start");
        _host.Log.Count("concat:chain-1").Should().Be(3, "each activity ran exactly once");
    }

    [Fact]
    public async Task An_activity_runs_in_the_trace_of_the_request_that_started_its_workflow()
    {
        // As with daprd, the SDK's worker starts each activity's span from the trace context the sidecar sends with
        // it, so a saga reads as one trace in a tracing backend. The listener is configured as the services' tracing is:
        // the SDK's "Dapr.Workflow" source only, sampled by parent (a span under an unsampled parent is not created).
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = s => s.Name is "Dapr.Workflow" or "DaprShop.Sidecar.Tests",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> o) =>
                o.Parent == default || o.Parent.TraceFlags.HasFlag(System.Diagnostics.ActivityTraceFlags.Recorded)
                    ? System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded : System.Diagnostics.ActivitySamplingResult.None,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        using var source = new System.Diagnostics.ActivitySource("DaprShop.Sidecar.Tests");

        string traceId;
        using (var request = source.StartActivity("checkout request"))
        {
            traceId = request!.TraceId.ToString();
            await Client.ScheduleNewWorkflowAsync(nameof(SingleActivityWorkflow), "traced-1", 4);
        }
        using var cts = new CancellationTokenSource(Timeout);
        var state = await Client.WaitForWorkflowCompletionAsync("traced-1", cancellation: cts.Token);

        state.ReadOutputAs<int>().Should().Be(16);
        _host.Log.Traces.Should().ContainKey("traced-1").WhoseValue.Should().Be(traceId);
    }

    [Fact]
    public async Task An_activity_with_a_retry_policy_is_retried_on_durable_timers_until_it_succeeds()
    {
        var state = await RunAsync(nameof(RetryWorkflow), "retry-key", "retry-1");

        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
        state.ReadOutputAs<string>().Should().Be("succeeded on attempt 3");
        _host.Log.Count("flaky:retry-key").Should().Be(3);
        var history = await Client.GetInstanceHistoryAsync("retry-1");
        history.Count(e => e.EventType == Dapr.Workflow.Client.WorkflowHistoryEventType.TimerCreated).Should().Be(2, "the SDK waits on a timer before each retry");
    }

    [Fact]
    public async Task A_durable_timer_fires_after_its_delay()
    {
        var started = DateTime.UtcNow;
        var state = await RunAsync(nameof(TimerWorkflow), 2, "timer-1");

        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
        (DateTime.UtcNow - started).Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(2));
        state.ReadOutputAs<double>().Should().BeGreaterThanOrEqualTo(2, "the workflow clock moved on by the timer's delay");
    }

    [Fact]
    public async Task An_external_event_raised_before_the_workflow_waits_for_it_is_buffered_and_delivered()
    {
        // Raised before the worker even ran the first turn.
        await Client.ScheduleNewWorkflowAsync(nameof(EventWorkflow), "event-1", "order");
        await Client.RaiseEventAsync("event-1", "approval", "yes");
        using var cts = new CancellationTokenSource(Timeout);
        var state = await Client.WaitForWorkflowCompletionAsync("event-1", cancellation: cts.Token);

        state.ReadOutputAs<string>().Should().Be("order:yes");
    }

    [Fact]
    public async Task A_wait_on_an_id_with_no_instance_yet_ends_once_an_instance_starts_under_it()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var waiting = Client.WaitForWorkflowStartAsync("later-1", cancellation: cts.Token);
        await Task.Delay(300);
        waiting.IsCompleted.Should().BeFalse("as daprd, the sidecar keeps the call open until an instance exists");

        await Client.ScheduleNewWorkflowAsync(nameof(EventWorkflow), "later-1", "order");
        var state = await waiting;

        state.Exists.Should().BeTrue();
        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Running);
    }

    [Fact]
    public async Task A_wait_on_an_id_that_never_gets_an_instance_lasts_until_the_caller_gives_up()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));

        var gaveUp = await FluentActions.Awaiting(() => Client.WaitForWorkflowCompletionAsync("never-started", cancellation: cts.Token))
            .Should().ThrowAsync<Exception>();

        gaveUp.Which.Should().Match<Exception>(e => e is OperationCanceledException || e is RpcException && ((RpcException)e).StatusCode == StatusCode.Cancelled,
            "the answer is not \"does not exist\": an instance may still be created under the id");
    }

    [Fact]
    public async Task An_external_event_raised_while_the_workflow_waits_completes_it()
    {
        await Client.ScheduleNewWorkflowAsync(nameof(EventWorkflow), "event-2", "order");
        await Client.WaitForWorkflowStartAsync("event-2");
        await Task.Delay(500);
        (await Client.GetWorkflowStateAsync("event-2"))!.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Running, "it waits without a timeout");

        await Client.RaiseEventAsync("event-2", "approval", "granted");
        using var cts = new CancellationTokenSource(Timeout);
        var state = await Client.WaitForWorkflowCompletionAsync("event-2", cancellation: cts.Token);

        state.ReadOutputAs<string>().Should().Be("order:granted");
    }

    [Fact]
    public async Task Waiting_for_an_event_with_a_timeout_ends_with_the_timeout_when_no_event_comes()
    {
        var timedOut = await RunAsync(nameof(EventWithTimeoutWorkflow), 1, "timeout-1");
        timedOut.ReadOutputAs<string>().Should().Be("timed out");

        await Client.ScheduleNewWorkflowAsync(nameof(EventWithTimeoutWorkflow), "timeout-2", 30);
        await Client.RaiseEventAsync("timeout-2", "approval", "in time");
        using var cts = new CancellationTokenSource(Timeout);
        var received = await Client.WaitForWorkflowCompletionAsync("timeout-2", cancellation: cts.Token);
        received.ReadOutputAs<string>().Should().Be("received in time");
    }

    [Fact]
    public async Task A_child_workflow_runs_and_its_result_reaches_the_parent()
    {
        var state = await RunAsync(nameof(ParentWorkflow), "x", "parent-1");

        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
        state.ReadOutputAs<string>().Should().Be("parent(child(x+1))");
        var history = await Client.GetInstanceHistoryAsync("parent-1");
        history.Should().Contain(e => e.EventType == Dapr.Workflow.Client.WorkflowHistoryEventType.SubOrchestrationInstanceCreated);
        history.Should().Contain(e => e.EventType == Dapr.Workflow.Client.WorkflowHistoryEventType.SubOrchestrationInstanceCompleted);
    }

    [Fact]
    public async Task A_fan_out_of_100_activities_fans_in_every_result()
    {
        var state = await RunAsync(nameof(FanOutWorkflow), 100, "fan-1");

        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
        state.ReadOutputAs<int>().Should().Be(Enumerable.Range(1, 100).Sum(i => i * i));
    }

    [Fact]
    public async Task Continue_as_new_restarts_with_the_new_input_and_keeps_an_event_that_arrived_meanwhile()
    {
        await Client.ScheduleNewWorkflowAsync(nameof(CounterWorkflow), "counter-1", new[] { 0, 5 });
        await Client.RaiseEventAsync("counter-1", "finish", "kept");
        using var cts = new CancellationTokenSource(Timeout);
        var state = await Client.WaitForWorkflowCompletionAsync("counter-1", cancellation: cts.Token);

        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
        state.ReadOutputAs<string>().Should().Be("5:kept");
        state.ReadInputAs<int[]>().Should().Equal(5, 5);
        var history = await Client.GetInstanceHistoryAsync("counter-1");
        history.Should().ContainSingle(e => e.EventType == Dapr.Workflow.Client.WorkflowHistoryEventType.ExecutionStarted, "the history starts over");
    }

    [Fact]
    public async Task A_patch_taken_by_a_turn_is_kept_in_the_history_and_read_back_on_replay()
    {
        var state = await RunAsync(nameof(PatchedWorkflow), "p", "patched-1");

        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
        // The first value is read while the last turn replays the first: true only if the sidecar kept the patch that
        // turn reported in its response (daprd stores it on the turn's OrchestratorStarted event).
        state.ReadOutputAs<bool[]>().Should().Equal([true, true], "a replay follows the patched path the first run took");
    }

    [Fact]
    public async Task A_patch_an_instance_did_not_take_before_it_was_deployed_reads_false_on_replay()
    {
        var state = await RunAsync(nameof(LatePatchWorkflow), "p", "late-patch-1");

        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
        state.ReadOutputAs<bool>().Should().BeFalse("the history has no such patch, so the in-flight instance keeps the old path");
    }

    [Fact]
    public async Task Purging_by_filter_is_refused_with_daprds_error_and_purges_nothing()
    {
        await RunAsync(nameof(ChainWorkflow), "x", "purge-filter");
        using var channel = global::Grpc.Net.Client.GrpcChannel.ForAddress($"http://127.0.0.1:{_host.Sidecar.GrpcPort}");
        var taskHub = new Dapr.DurableTask.Protobuf.TaskHubSidecarService.TaskHubSidecarServiceClient(channel);

        var refused = await FluentActions.Awaiting(async () => await taskHub.PurgeInstancesAsync(new Dapr.DurableTask.Protobuf.PurgeInstancesRequest
        {
            PurgeInstanceFilter = new Dapr.DurableTask.Protobuf.PurgeInstanceFilter { RuntimeStatus = { Dapr.DurableTask.Protobuf.OrchestrationStatus.Completed } },
        })).Should().ThrowAsync<RpcException>();

        refused.Which.StatusCode.Should().Be(StatusCode.Unknown);
        refused.Which.Status.Detail.Should().Be("multi-instance purge is not implemented");
        (await Client.GetWorkflowStateAsync("purge-filter")).Exists.Should().BeTrue();
    }

    [Fact]
    public async Task A_recursive_purge_purges_the_children_first_and_keeps_the_parent_while_a_child_cannot_be_purged()
    {
        (await RunAsync(nameof(DetachedChildWorkflow), "detached-child", "detaching-parent")).RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
        using var channel = global::Grpc.Net.Client.GrpcChannel.ForAddress($"http://127.0.0.1:{_host.Sidecar.GrpcPort}");
        var taskHub = new Dapr.DurableTask.Protobuf.TaskHubSidecarService.TaskHubSidecarServiceClient(channel);
        var purge = new Dapr.DurableTask.Protobuf.PurgeInstancesRequest { InstanceId = "detaching-parent", Recursive = true };
        await Eventually.HoldsAsync(async () => (await Client.GetWorkflowStateAsync("detached-child")).Exists, Timeout, "the parent started its child before it ended");

        var refused = await FluentActions.Awaiting(async () => await taskHub.PurgeInstancesAsync(purge)).Should().ThrowAsync<RpcException>();

        refused.Which.Status.Detail.Should().Contain("detached-child").And.Contain("not in a completed state");
        (await Client.GetWorkflowStateAsync("detaching-parent")).Exists.Should().BeTrue("as in daprd, the parent is kept while one of its children cannot be purged");
        (await Client.GetWorkflowStateAsync("detached-child")).Exists.Should().BeTrue();

        await Client.RaiseEventAsync("detached-child", "approval", "ok");
        using var cts = new CancellationTokenSource(Timeout);
        await Client.WaitForWorkflowCompletionAsync("detached-child", cancellation: cts.Token);
        (await taskHub.PurgeInstancesAsync(purge)).DeletedInstanceCount.Should().Be(2);
        (await Client.GetWorkflowStateAsync("detaching-parent")).Exists.Should().BeFalse();
        (await Client.GetWorkflowStateAsync("detached-child")).Exists.Should().BeFalse();
    }

    private async Task<int> ActivityEventIdAsync(string instanceId, int index) =>
        (await Client.GetInstanceHistoryAsync(instanceId))
            .Where(e => e.EventType == Dapr.Workflow.Client.WorkflowHistoryEventType.TaskScheduled)
            .Select(e => e.EventId).Order().ElementAt(index);

    [Fact]
    public async Task A_finished_workflow_reruns_from_an_activity_with_a_new_input_as_a_new_instance()
    {
        await RunAsync(nameof(ChainWorkflow), "start", "rerun-source");
        var second = await ActivityEventIdAsync("rerun-source", 1);

        var newId = await Client.RerunWorkflowFromEventAsync("rerun-source", (uint)second,
            new Dapr.Workflow.Client.RerunWorkflowFromEventOptions { NewInstanceId = "rerun-copy", Input = new ConcatInput("start-a", "-B"), OverwriteInput = true });
        using var cts = new CancellationTokenSource(Timeout);
        var state = await Client.WaitForWorkflowCompletionAsync(newId, cancellation: cts.Token);

        newId.Should().Be("rerun-copy");
        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
        state.ReadOutputAs<string>().Should().Be("start-a-B-c", "the second activity ran again with the new input, then the third");
        state.ReadInputAs<string>().Should().Be("start");
        _host.Log.Count("concat:rerun-copy").Should().Be(2, "the first activity's result is kept from the source's history");
        (await Client.GetWorkflowStateAsync("rerun-source")).ReadOutputAs<string>().Should().Be("start-a-b-c", "the source is left as it was");
    }

    [Fact]
    public async Task A_rerun_without_an_input_runs_the_activity_again_with_its_own_under_a_new_id()
    {
        await RunAsync(nameof(ChainWorkflow), "again", "rerun-same");
        var first = await ActivityEventIdAsync("rerun-same", 0);

        var newId = await Client.RerunWorkflowFromEventAsync("rerun-same", (uint)first);
        using var cts = new CancellationTokenSource(Timeout);
        var state = await Client.WaitForWorkflowCompletionAsync(newId, cancellation: cts.Token);

        newId.Should().NotBe("rerun-same");
        Guid.TryParseExact(newId, "D", out _).Should().BeTrue("without a new id the sidecar names the rerun with a dashed UUID, as daprd does");
        state.ReadOutputAs<string>().Should().Be("again-a-b-c");
        _host.Log.Count($"concat:{newId}").Should().Be(3);
    }

    [Fact]
    public async Task A_rerun_is_refused_for_an_unfinished_or_unknown_instance_an_event_that_is_no_activity_and_a_taken_id()
    {
        await Client.ScheduleNewWorkflowAsync(nameof(EventWorkflow), "rerun-running", "waiting");
        await Client.WaitForWorkflowStartAsync("rerun-running");
        await RunAsync(nameof(ChainWorkflow), "x", "rerun-done");
        // A workflow that ran no activity: its only event with an id is its completion.
        await Client.ScheduleNewWorkflowAsync(nameof(EventWorkflow), "rerun-no-activity", "x");
        await Client.RaiseEventAsync("rerun-no-activity", "approval", "yes");
        using (var cts = new CancellationTokenSource(Timeout))
        {
            await Client.WaitForWorkflowCompletionAsync("rerun-no-activity", cancellation: cts.Token);
        }
        var completed = (await Client.GetInstanceHistoryAsync("rerun-no-activity")).Single(e => e.EventType == Dapr.Workflow.Client.WorkflowHistoryEventType.ExecutionCompleted).EventId;

        async Task<StatusCode> Refusal(string source, uint eventId, string? newId = null) =>
            (await FluentActions.Awaiting(() => Client.RerunWorkflowFromEventAsync(source, eventId,
                new Dapr.Workflow.Client.RerunWorkflowFromEventOptions { NewInstanceId = newId }))
                .Should().ThrowAsync<RpcException>()).Which.StatusCode;

        (await Refusal("rerun-running", 0)).Should().Be(StatusCode.InvalidArgument, "only a finished instance can be rerun");
        (await Refusal("rerun-nobody", 0)).Should().Be(StatusCode.NotFound);
        (await Refusal("rerun-no-activity", (uint)completed)).Should().Be(StatusCode.NotFound, "only an activity or a timer can be rerun");
        (await Refusal("rerun-done", 999)).Should().Be(StatusCode.NotFound);
        (await Refusal("rerun-done", 0, newId: "rerun-running")).Should().Be(StatusCode.AlreadyExists);
        (await Client.GetWorkflowStateAsync("rerun-running")).RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Running, "a refused rerun changes nothing");
    }

    [Fact]
    public async Task A_scheduled_workflow_has_started_when_the_schedule_call_returns()
    {
        for (var i = 0; i < 5; i++)
        {
            var id = await Client.ScheduleNewWorkflowAsync(nameof(EventWorkflow), $"started-{i}", "x");

            (await Client.GetWorkflowStateAsync(id, getInputsAndOutputs: false))!.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Running,
                "daprd answers a start once the instance's first turn has been taken");
        }
        var later = await Client.ScheduleNewWorkflowAsync(nameof(EventWorkflow), "started-later", "x", DateTimeOffset.UtcNow.AddHours(1));
        (await Client.GetWorkflowStateAsync(later, getInputsAndOutputs: false))!.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Pending, "a start scheduled for later returns at once");
    }

    [Fact]
    public async Task A_failing_activity_fails_the_workflow_and_the_caller_sees_the_failure_details()
    {
        var state = await RunAsync(nameof(FailingWorkflow), "payload", "fail-1");

        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Failed);
        state.FailureDetails.Should().NotBeNull();
        state.FailureDetails!.ErrorMessage.Should().Contain("boom: payload");
        state.FailureDetails.ErrorType.Should().NotBeNullOrEmpty();
        (await Client.GetWorkflowStateAsync("fail-1", getInputsAndOutputs: false))!.FailureDetails.Should().BeNull("daprd gives failure details only with the inputs and outputs");
    }

    [Fact]
    public async Task Suspend_holds_a_workflow_and_resume_lets_it_finish()
    {
        await Client.ScheduleNewWorkflowAsync(nameof(EventWorkflow), "suspend-1", "s");
        await Client.WaitForWorkflowStartAsync("suspend-1");
        await Client.SuspendWorkflowAsync("suspend-1", "hold on");
        (await Client.GetWorkflowStateAsync("suspend-1"))!.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Suspended);

        await Client.RaiseEventAsync("suspend-1", "approval", "while suspended");
        await Task.Delay(1000);
        (await Client.GetWorkflowStateAsync("suspend-1"))!.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Suspended, "events wait while suspended");

        await Client.ResumeWorkflowAsync("suspend-1", "go on");
        using var cts = new CancellationTokenSource(Timeout);
        var state = await Client.WaitForWorkflowCompletionAsync("suspend-1", cancellation: cts.Token);
        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
        state.ReadOutputAs<string>().Should().Be("s:while suspended");
    }

    [Fact]
    public async Task A_workflow_suspended_and_resumed_before_its_scheduled_start_still_starts_at_that_time()
    {
        var startAt = DateTimeOffset.UtcNow.AddSeconds(3);
        await Client.ScheduleNewWorkflowAsync(nameof(ChainWorkflow), "scheduled-suspend", "x", startAt);
        (await Client.GetWorkflowStateAsync("scheduled-suspend"))!.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Pending);

        await Client.SuspendWorkflowAsync("scheduled-suspend", "hold on");
        (await Client.GetWorkflowStateAsync("scheduled-suspend"))!.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Suspended);
        await Client.ResumeWorkflowAsync("scheduled-suspend", "go on");
        await Task.Delay(500);
        (await Client.GetWorkflowStateAsync("scheduled-suspend"))!.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Pending, "resumed before its start time, it waits for it");

        using var cts = new CancellationTokenSource(Timeout);
        var state = await Client.WaitForWorkflowCompletionAsync("scheduled-suspend", cancellation: cts.Token);
        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
        state.ReadOutputAs<string>().Should().Be("x-a-b-c");
        var history = (await Client.GetInstanceHistoryAsync("scheduled-suspend")).ToList();
        history.First(e => e.EventType == Dapr.Workflow.Client.WorkflowHistoryEventType.TaskScheduled).Timestamp.Should()
            .BeOnOrAfter(startAt.UtcDateTime.AddMilliseconds(-50), "the first step ran at the scheduled time");
        var kinds = history.Select(e => e.EventType).ToList();
        kinds.IndexOf(Dapr.Workflow.Client.WorkflowHistoryEventType.ExecutionStarted).Should()
            .BeLessThan(kinds.IndexOf(Dapr.Workflow.Client.WorkflowHistoryEventType.ExecutionSuspended), "as in daprd, the suspension waited behind the start");
    }

    [Fact]
    public async Task Terminate_ends_a_running_workflow_and_purge_deletes_it()
    {
        await Client.ScheduleNewWorkflowAsync(nameof(EventWorkflow), "term-1", "t");
        await Client.WaitForWorkflowStartAsync("term-1");

        (await Client.PurgeInstanceAsync("term-1").Invoking(t => t).Should().ThrowAsync<RpcException>()).Which.Status.Detail.Should().Contain("not in a completed state");

        await Client.TerminateWorkflowAsync("term-1", "stopped by test");
        using var cts = new CancellationTokenSource(Timeout);
        var state = await Client.WaitForWorkflowCompletionAsync("term-1", cancellation: cts.Token);
        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Terminated);
        state.ReadOutputAs<string>().Should().Be("stopped by test");

        (await Client.PurgeInstanceAsync("term-1")).Should().BeTrue();
        (await Client.GetWorkflowStateAsync("term-1")).Exists.Should().BeFalse();
        (await Client.PurgeInstanceAsync("term-1")).Should().BeFalse("nothing is left to purge");
    }

    [Fact]
    public async Task Starting_a_running_id_again_is_refused_as_daprd_refuses_it_and_a_finished_id_may_start_again()
    {
        await Client.ScheduleNewWorkflowAsync(nameof(EventWorkflow), "dup-1", "first");
        await Client.WaitForWorkflowStartAsync("dup-1");

        var refused = await Client.Invoking(c => c.ScheduleNewWorkflowAsync(nameof(EventWorkflow), "dup-1", "second")).Should().ThrowAsync<RpcException>();
        refused.Which.StatusCode.Should().Be(StatusCode.Unknown);
        refused.Which.Status.Detail.Should().Be("an active workflow with ID 'dup-1' already exists");

        await Client.RaiseEventAsync("dup-1", "approval", "one");
        using var cts = new CancellationTokenSource(Timeout);
        (await Client.WaitForWorkflowCompletionAsync("dup-1", cancellation: cts.Token)).ReadOutputAs<string>().Should().Be("first:one");

        await Client.ScheduleNewWorkflowAsync(nameof(EventWorkflow), "dup-1", "again");
        await Client.RaiseEventAsync("dup-1", "approval", "two");
        var again = await Client.WaitForWorkflowCompletionAsync("dup-1", cancellation: cts.Token);
        again.ReadOutputAs<string>().Should().Be("again:two");
        var history = await Client.GetInstanceHistoryAsync("dup-1");
        history.Should().ContainSingle(e => e.EventType == Dapr.Workflow.Client.WorkflowHistoryEventType.ExecutionStarted, "the earlier run's history is gone");
    }

    [Fact]
    public async Task Listing_instance_ids_pages_through_every_instance()
    {
        foreach (var i in Enumerable.Range(0, 5))
        {
            await RunAsync(nameof(SingleActivityWorkflow), i, $"list-{i}");
        }

        var first = await Client.ListInstanceIdsAsync(pageSize: 3);
        first.InstanceIds.Should().HaveCount(3);
        first.ContinuationToken.Should().NotBeNull();
        var second = await Client.ListInstanceIdsAsync(first.ContinuationToken, pageSize: 3);
        first.InstanceIds.Concat(second.InstanceIds).Should().BeEquivalentTo(Enumerable.Range(0, 5).Select(i => $"list-{i}"));
        second.ContinuationToken.Should().BeNull();
    }

    [Fact]
    public async Task A_thousand_concurrent_instances_all_complete()
    {
        var ids = Enumerable.Range(0, 1000).Select(i => $"many-{i}").ToList();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 50 }, async (id, ct) =>
            await Client.ScheduleNewWorkflowAsync(nameof(SingleActivityWorkflow), id, 7));

        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var states = await Task.WhenAll(ids.Select(id => Client.WaitForWorkflowCompletionAsync(id, cancellation: cts.Token)));

        states.Should().OnlyContain(s => s.RuntimeStatus == WorkflowRuntimeStatus.Completed && s.ReadOutputAs<int>() == 49);
    }
}
