using Dapr.Workflow;
using Dapr.Workflow.Registration;
using DaprShop.Testing;
using Grpc.Net.ClientFactory;
using Microsoft.Extensions.DependencyInjection;

namespace DaprShop.Benchmarks;

public sealed class NoopActivity : WorkflowActivity<int, int>
{
    public override Task<int> RunAsync(WorkflowActivityContext context, int input) => Task.FromResult(input + 1);
}

/// <summary>Five activities in a row.</summary>
public sealed class SequenceWorkflow : Workflow<int, int>
{
    public override async Task<int> RunAsync(WorkflowContext context, int input)
    {
        var value = input;
        for (var i = 0; i < 5; i++)
        {
            value = await context.CallActivityAsync<int>(nameof(NoopActivity), value);
        }
        return value;
    }
}

/// <summary>Ten activities in parallel, then their sum.</summary>
public sealed class ParallelWorkflow : Workflow<int, int>
{
    public override async Task<int> RunAsync(WorkflowContext context, int input)
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => context.CallActivityAsync<int>(nameof(NoopActivity), input + i)));
        return results.Sum();
    }
}

/// <summary>
/// Workflows per second and completion latency with 30 and 100 concurrent starters (each starts a workflow and waits
/// for it to complete, then starts the next), on the durable `state.sqlite` store, with the official Dapr.Workflow
/// worker and client.
/// </summary>
public static class WorkflowBench
{
    public const double SequenceTargetPerSecond = 100;

    public static async Task RunAsync(Durations durations, Report report)
    {
        using var resources = new ResourcesFolder();
        resources.WithComponent("actorstore", "state.sqlite", ("connectionString", Path.Combine(resources.Path, "workflows.db")), ("actorStateStore", "true"));
        using var mesh = new TestMesh();
        var grpcPort = Ports.Free();
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "bench-workflows", GrpcPort = grpcPort, ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        await using var app = await TestApp.StartAsync(_ => { }, services =>
        {
            services.AddDaprWorkflow(o =>
            {
                o.RegisterWorkflow<SequenceWorkflow>();
                o.RegisterWorkflow<ParallelWorkflow>();
                o.RegisterActivity<NoopActivity>();
            });
            services.PostConfigureAll<GrpcClientFactoryOptions>(o => o.Address = new Uri($"http://127.0.0.1:{grpcPort}"));
        });
        await using var client = new DaprWorkflowClientBuilder().UseGrpcEndpoint($"http://127.0.0.1:{grpcPort}").Build();
        var cpu = CpuMeter.ForSidecars(mesh);

        async Task Run(string workflow, CancellationToken ct)
        {
            var id = await client.ScheduleNewWorkflowAsync(workflow, null, 1);
            var state = await client.WaitForWorkflowCompletionAsync(id, getInputsAndOutputs: false, cancellation: ct);
            if (state.RuntimeStatus != WorkflowRuntimeStatus.Completed)
            {
                throw new InvalidOperationException($"{workflow} ended {state.RuntimeStatus}");
            }
        }

        report.Notes.Add(await Load.WarmUpUntilJitQuietAsync("Workflows", durations.WarmUp * 2, durations.WarmUp * 30, cpu, length =>
            Load.ClosedLoopAsync("workflow warm-up", 30, TimeSpan.Zero, length, (w, i) => Run((w + i) % 2 == 0 ? nameof(SequenceWorkflow) : nameof(ParallelWorkflow), CancellationToken.None))));
        foreach (var starters in new[] { 30, 100 })
        {
            foreach (var workflow in new[] { nameof(SequenceWorkflow), nameof(ParallelWorkflow) })
            {
                var label = workflow == nameof(SequenceWorkflow) ? "5-activity sequence" : "fan-out of 10";
                var stats = await Load.ClosedLoopAsync($"workflow {label}, {starters} starters (sqlite)", starters, durations.WarmUp, durations.State * 2, (_, _) => Run(workflow, CancellationToken.None), cpu);
                report.Add(stats);
                var measured = $"{Report.Rate(stats.Throughput)}/s (p50 {Report.Ms(stats.P50)} ms, p99 {Report.Ms(stats.P99)} ms)";
                report.Rows.Add(workflow == nameof(SequenceWorkflow)
                    ? Row.AtLeast($"workflows/s, {label}, {starters} starters", SequenceTargetPerSecond, stats.Throughput) with { Measured = measured }
                    : Row.Info($"workflows/s, {label}, {starters} starters", measured));
            }
        }
        report.Notes.Add("Workflows: the official Dapr.Workflow worker in a test app and DaprWorkflowClient; each starter schedules a workflow and waits for its completion, then starts the next (latency = schedule → completed); history on `state.sqlite` (durable, one transaction per orchestration turn).");
    }
}
