using Dapr.Workflow;
using FluentAssertions;

namespace DaprShop.Sidecar.Tests.Workflows;

/// <summary>The Configuration's <c>spec.workflow.stateRetentionPolicy</c>: finished instances purged after their status's retention.</summary>
public sealed class WorkflowRetentionTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private const string Policy = """
          workflow:
            stateRetentionPolicy:
              anyTerminal: "1h"
              completed: "1s"
        """;

    private static async Task<bool> ExistsAsync(DaprWorkflowClient client, string id) =>
        await client.GetWorkflowStateAsync(id, getInputsAndOutputs: false) is { Exists: true };

    private static async Task WaitUntilPurgedAsync(DaprWorkflowClient client, string id)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (await ExistsAsync(client, id))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{id} was never purged");
            }
            await Task.Delay(100);
        }
    }

    private static async Task RunAsync(WorkflowHost host, string workflow, object input, string id)
    {
        await host.Client.ScheduleNewWorkflowAsync(workflow, id, input);
        using var cts = new CancellationTokenSource(Timeout);
        await host.Client.WaitForWorkflowCompletionAsync(id, cancellation: cts.Token);
    }

    [Fact]
    public async Task A_finished_instance_is_purged_after_the_retention_its_status_is_given_and_others_are_kept()
    {
        await using var host = await WorkflowHost.StartAsync(configurationSpec: Policy);
        await RunAsync(host, nameof(FailingWorkflow), "x", "kept-long");
        await RunAsync(host, nameof(ChainWorkflow), "x", "kept-briefly");

        await WaitUntilPurgedAsync(host.Client, "kept-briefly");

        (await ExistsAsync(host.Client, "kept-long")).Should().BeTrue("a failed instance falls under anyTerminal (1h)");
        (await host.Client.ListInstanceIdsAsync()).InstanceIds.Should().Contain("kept-long").And.NotContain("kept-briefly");
    }

    [Fact]
    public async Task A_child_workflow_is_purged_by_the_retention_policy_like_its_parent()
    {
        await using var host = await WorkflowHost.StartAsync(configurationSpec: Policy);
        await RunAsync(host, nameof(ParentWorkflow), "x", "with-child");
        var ids = (await host.Client.ListInstanceIdsAsync()).InstanceIds;
        var child = ids.Should().ContainSingle(id => id != "with-child", "the parent started one child").Which;

        await WaitUntilPurgedAsync(host.Client, "with-child");
        await WaitUntilPurgedAsync(host.Client, child);
    }

    [Fact]
    public async Task The_retention_purge_of_a_finished_instance_survives_a_sidecar_restart()
    {
        await using var host = await WorkflowHost.StartAsync(sqlite: true, configurationSpec: """
              workflow:
                stateRetentionPolicy:
                  completed: "15s"
            """);
        await RunAsync(host, nameof(ChainWorkflow), "x", "purged-after-restart");

        await host.RestartSidecarAsync();
        (await ExistsAsync(host.Client, "purged-after-restart")).Should().BeTrue("its retention has not run out yet");

        await WaitUntilPurgedAsync(host.Client, "purged-after-restart");
    }

    [Fact]
    public async Task Without_a_policy_finished_instances_are_kept()
    {
        await using var host = await WorkflowHost.StartAsync();
        await RunAsync(host, nameof(ChainWorkflow), "x", "kept-for-ever");

        await Task.Delay(1500);
        (await ExistsAsync(host.Client, "kept-for-ever")).Should().BeTrue();
    }
}
