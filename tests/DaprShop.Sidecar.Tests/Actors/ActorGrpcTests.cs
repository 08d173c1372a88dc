using Dapr.Client.Autogen.Grpc.v1;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;

namespace DaprShop.Sidecar.Tests.Actors;

public sealed class ActorGrpcTests
{
    [Fact]
    public async Task The_grpc_actor_methods_invoke_and_keep_state_like_the_http_ones()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().WithComponent("store", "state.in-memory", ("actorStateStore", "true"));
        await using var host = await ActorApp.StartAsync("counters", mesh, resources.Path, "host");
        await using var caller = await SidecarProcess.StartAsync(new() { AppId = "storefront", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var callerChannel = GrpcChannel.ForAddress($"http://127.0.0.1:{caller.GrpcPort}");
        using var hostChannel = GrpcChannel.ForAddress($"http://127.0.0.1:{host.Sidecar.GrpcPort}");
        var fromCaller = new Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient(callerChannel);
        var fromHost = new Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient(hostChannel);

        // Without remoting headers the SDK answers with JSON.
        var invoked = await fromCaller.InvokeActorAsync(new InvokeActorRequest { ActorType = "CounterActor", ActorId = "g", Method = "WhoAmI" });
        invoked.Data.ToStringUtf8().Should().Be("\"host\"");

        var tx = new ExecuteActorStateTransactionRequest { ActorType = "CounterActor", ActorId = "g" };
        tx.Operations.Add(new TransactionalActorStateOperation { OperationType = "upsert", Key = "k", Value = new Any { Value = ByteString.CopyFromUtf8("\"v\"") } });
        await fromHost.ExecuteActorStateTransactionAsync(tx);
        (await fromHost.GetActorStateAsync(new GetActorStateRequest { ActorType = "CounterActor", ActorId = "g", Key = "k" })).Data.ToStringUtf8().Should().Be("\"v\"");

        var refused = async () => await fromCaller.GetActorStateAsync(new GetActorStateRequest { ActorType = "CounterActor", ActorId = "g", Key = "k" });
        (await refused.Should().ThrowAsync<RpcException>()).Which.Status.Detail.Should().Contain("actor instance is missing");

        var notHosted = async () => await fromCaller.RegisterActorReminderAsync(new RegisterActorReminderRequest { ActorType = "CounterActor", ActorId = "g", Name = "r", DueTime = "1s" });
        (await notHosted.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.PermissionDenied);

        await fromHost.RegisterActorReminderAsync(new RegisterActorReminderRequest { ActorType = "CounterActor", ActorId = "g", Name = "r", DueTime = "1h", Data = ByteString.CopyFromUtf8("hi") });
        var reminder = await fromHost.GetActorReminderAsync(new GetActorReminderRequest { ActorType = "CounterActor", ActorId = "g", Name = "r" });
        reminder.DueTime.Should().Be("1h");
        await fromHost.UnregisterActorReminderAsync(new UnregisterActorReminderRequest { ActorType = "CounterActor", ActorId = "g", Name = "r" });
    }
}
