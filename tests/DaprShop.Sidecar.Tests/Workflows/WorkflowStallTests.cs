using Dapr.DurableTask.Protobuf;
using Dapr.Workflow;
using FluentAssertions;
using Grpc.Core;
using Grpc.Net.Client;

namespace DaprShop.Sidecar.Tests.Workflows;

/// <summary>
/// A turn the worker cannot take (during a rollout, a replica without a patch or a version the history names) leaves
/// the instance STALLED; when a worker connects, daprd offers the turn again. The stalling worker here speaks the
/// workflow protocol directly (Dapr's own wire types), as an older replica's SDK would answer; the real SDK worker
/// then takes the turn.
/// </summary>
public sealed class WorkflowStallTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_stalled_instance_waits_and_runs_again_when_a_worker_that_can_take_it_connects()
    {
        await using var host = await WorkflowHost.StartAsync(withApp: false);
        // The start returns once a worker has taken the first turn, as daprd's does: here the worker below.
        var scheduled = host.Client.ScheduleNewWorkflowAsync(nameof(ChainWorkflow), "stall-1", "x");

        // An older worker: it answers the first turn with a stall, as the SDK does on a patch mismatch, then leaves.
        using (var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{host.Sidecar.GrpcPort}"))
        {
            var worker = new TaskHubSidecarService.TaskHubSidecarServiceClient(channel);
            using var cts = new CancellationTokenSource(Timeout);
            using var stream = worker.GetWorkItems(new GetWorkItemsRequest(), cancellationToken: cts.Token);
            (await stream.ResponseStream.MoveNext(cts.Token)).Should().BeTrue();
            var item = stream.ResponseStream.Current;
            item.WorkflowRequest.InstanceId.Should().Be("stall-1");
            await worker.CompleteWorkflowTaskAsync(new WorkflowResponse
            {
                InstanceId = "stall-1",
                CompletionToken = item.CompletionToken,
                Actions =
                {
                    new WorkflowAction
                    {
                        Id = 0,
                        CompleteWorkflow = new CompleteWorkflowAction { WorkflowStatus = OrchestrationStatus.Stalled, Details = "this worker lacks a patch" },
                    },
                },
            }, cancellationToken: cts.Token);
            await scheduled.WaitAsync(cts.Token);
            await cts.CancelAsync();
        }

        var stalled = await WaitForAsync(host.Client, "stall-1", s => s.RuntimeStatus == WorkflowRuntimeStatus.Stalled);
        stalled.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Stalled);
        await Task.Delay(300);
        (await host.Client.GetWorkflowStateAsync("stall-1")).RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Stalled, "no worker has connected since the stall");

        await host.StartAppAsync();
        using var wait = new CancellationTokenSource(Timeout);
        var state = await host.Client.WaitForWorkflowCompletionAsync("stall-1", cancellation: wait.Token);

        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
        state.ReadOutputAs<string>().Should().Be("x-a-b-c", "the turn the stall left waiting was taken by the new worker");
        var history = await host.Client.GetInstanceHistoryAsync("stall-1");
        history.Should().ContainSingle(e => e.EventType == Dapr.Workflow.Client.WorkflowHistoryEventType.ExecutionStalled);
        history.Should().ContainSingle(e => e.EventType == Dapr.Workflow.Client.WorkflowHistoryEventType.ExecutionStarted);
    }

    [Fact]
    public async Task An_instance_whose_next_work_item_outgrows_the_body_limit_stalls_alone_until_the_limit_is_raised()
    {
        // 95 % of 32 KiB is 31,129 bytes: the turn that delivers the fourth 8,000-character result is larger.
        await using var host = await WorkflowHost.StartAsync(sqlite: true, sidecarArgs: ["--max-body-size", "32Ki"]);
        await host.Client.ScheduleNewWorkflowAsync(nameof(GrowingWorkflow), "big-1", 6);

        (await WaitForAsync(host.Client, "big-1", s => s.RuntimeStatus == WorkflowRuntimeStatus.Stalled)).RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Stalled);
        (await host.Client.GetInstanceHistoryAsync("big-1")).Should()
            .ContainSingle(e => e.EventType == Dapr.Workflow.Client.WorkflowHistoryEventType.ExecutionStalled);

        // The worker's stream was not broken by an oversized message: other instances still run.
        using (var wait = new CancellationTokenSource(Timeout))
        {
            await host.Client.ScheduleNewWorkflowAsync(nameof(ChainWorkflow), "small-1", "x");
            (await host.Client.WaitForWorkflowCompletionAsync("small-1", cancellation: wait.Token)).ReadOutputAs<string>().Should().Be("x-a-b-c");
        }
        (await host.Client.GetWorkflowStateAsync("big-1"))!.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Stalled, "the stall lasts while the limit does");

        // The operator raises the limit and restarts the sidecar: the worker reconnects and the instance goes on.
        host.SidecarArgs = ["--max-body-size", "4Mi"];
        await host.RestartSidecarAsync();
        using var done = new CancellationTokenSource(Timeout);
        var state = await host.Client.WaitForWorkflowCompletionAsync("big-1", cancellation: done.Token);
        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
        state.ReadOutputAs<int>().Should().Be(6 * 8000);
    }

    private static async Task<Dapr.Workflow.WorkflowState> WaitForAsync(DaprWorkflowClient client, string id, Func<Dapr.Workflow.WorkflowState, bool> done)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var state = await client.GetWorkflowStateAsync(id);
            if (state is not null && done(state))
            {
                return state;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{id} never reached the expected state");
            }
            await Task.Delay(50);
        }
    }
}
