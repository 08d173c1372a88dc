using Dapr.Workflow;
using FluentAssertions;

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
}
