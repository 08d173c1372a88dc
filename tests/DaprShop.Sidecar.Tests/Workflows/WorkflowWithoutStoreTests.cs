using Dapr.Workflow.Registration;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Grpc.Core;

namespace DaprShop.Sidecar.Tests.Workflows;

public sealed class WorkflowWithoutStoreTests
{
    [Fact]
    public async Task Without_an_actor_state_store_the_workflow_api_answers_with_a_clear_error()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().WithComponent("plain", "state.in-memory");
        await using var sidecar = await SidecarProcess.StartAsync(new SidecarProcess.Options { AppId = "nostore", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        await using var client = new DaprWorkflowClientBuilder().UseGrpcEndpoint($"http://127.0.0.1:{sidecar.GrpcPort}").Build();

        var error = await client.Invoking(c => c.ScheduleNewWorkflowAsync("Anything", "x")).Should().ThrowAsync<RpcException>();

        error.Which.StatusCode.Should().Be(StatusCode.FailedPrecondition);
        error.Which.Status.Detail.Should().Contain("actorStateStore");
    }
}
