using Dapr.Workflow;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;

namespace DaprShop.Sidecar.Tests.Workflows;

/// <summary>Killing the sidecar or stopping the app mid-workflow, on the sqlite actor state store.</summary>
public sealed class WorkflowRestartTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private static async Task WaitForStatusAsync(DaprWorkflowClient client, string id, string customStatus)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (DateTime.UtcNow < deadline)
        {
            var state = await client.GetWorkflowStateAsync(id);
            if (state.Exists && state.ReadCustomStatusAs<string>() == customStatus)
            {
                return;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"{id} never reported '{customStatus}'");
    }

    [Fact]
    public async Task A_sidecar_killed_mid_workflow_resumes_it_after_a_restart_without_running_a_completed_activity_again()
    {
        await using var host = await WorkflowHost.StartAsync(sqlite: true);
        await host.Client.ScheduleNewWorkflowAsync(nameof(StepsWorkflow), "sidecar-restart", "go");
        await WaitForStatusAsync(host.Client, "sidecar-restart", "after-one");
        host.Log.Count("sidecar-restart:one").Should().Be(1);

        await host.RestartSidecarAsync();
        (await host.Client.GetWorkflowStateAsync("sidecar-restart")).RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Running, "the instance was loaded back from the store");

        await host.Client.RaiseEventAsync("sidecar-restart", "continue", "after restart");
        using var cts = new CancellationTokenSource(Timeout);
        var state = await host.Client.WaitForWorkflowCompletionAsync("sidecar-restart", cancellation: cts.Token);

        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
        state.ReadOutputAs<string>().Should().Be("one,after restart,two");
        host.Log.Count("sidecar-restart:one").Should().Be(1, "the completed activity is not run again");
        host.Log.Count("sidecar-restart:two").Should().Be(1);
    }

    [Fact]
    public async Task Timers_and_pending_activities_survive_a_sidecar_restart()
    {
        await using var host = await WorkflowHost.StartAsync(sqlite: true);
        await host.Client.ScheduleNewWorkflowAsync(nameof(TimerWorkflow), "timer-restart", 3);
        await host.Client.WaitForWorkflowStartAsync("timer-restart");
        await Task.Delay(500);

        await host.RestartSidecarAsync();
        using var cts = new CancellationTokenSource(Timeout);
        var state = await host.Client.WaitForWorkflowCompletionAsync("timer-restart", cancellation: cts.Token);

        state.RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Completed);
        state.ReadOutputAs<double>().Should().BeGreaterThanOrEqualTo(3);
    }

    [Fact]
    public async Task An_app_stopped_mid_workflow_and_started_again_resumes_the_workflow()
    {
        await using var host = await WorkflowHost.StartAsync(sqlite: true);
        await host.Client.ScheduleNewWorkflowAsync(nameof(StepsWorkflow), "app-restart", "go");
        await WaitForStatusAsync(host.Client, "app-restart", "after-one");

        await host.StopAppAsync();
        // The event arrives while no worker is connected: its turn waits in the queue.
        await host.Client.RaiseEventAsync("app-restart", "continue", "while away");
        await Task.Delay(500);
        (await host.Client.GetWorkflowStateAsync("app-restart")).RuntimeStatus.Should().Be(WorkflowRuntimeStatus.Running);

        await host.StartAppAsync();
        using var cts = new CancellationTokenSource(Timeout);
        var state = await host.Client.WaitForWorkflowCompletionAsync("app-restart", cancellation: cts.Token);

        state.ReadOutputAs<string>().Should().Be("one,while away,two");
        host.Log.Count("app-restart:one").Should().Be(1, "the completed activity is not run again");
        host.Log.Count("app-restart:two").Should().Be(1);
    }

    [Fact]
    public async Task An_activity_the_app_never_finished_is_sent_again_to_the_restarted_app()
    {
        await using var host = await WorkflowHost.StartAsync(sqlite: true);
        host.Log.Close("inflight:one");
        await host.Client.ScheduleNewWorkflowAsync(nameof(StepsWorkflow), "inflight", "go");
        await Eventually.HoldsAsync(() => host.Log.Gates["inflight:one"].Task.IsCompleted == false && host.App is not null, "the app runs");
        await Task.Delay(1000); // the activity is now blocked inside the first app

        await host.StopAppAsync();
        host.Log.Open("inflight:one");
        host.Log.Count("inflight:one").Should().Be(0, "the first app never finished it");
        await host.StartAppAsync();
        await WaitForStatusAsync(host.Client, "inflight", "after-one");
        await host.Client.RaiseEventAsync("inflight", "continue", "x");
        using var cts = new CancellationTokenSource(Timeout);
        var state = await host.Client.WaitForWorkflowCompletionAsync("inflight", cancellation: cts.Token);

        state.ReadOutputAs<string>().Should().Be("one,x,two");
        host.Log.Count("inflight:one").Should().BeGreaterThanOrEqualTo(1);
    }
}
