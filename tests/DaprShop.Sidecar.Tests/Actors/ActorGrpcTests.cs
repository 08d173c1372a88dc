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
    /// <summary>A sidecar whose app hosts <c>CounterActor</c> and another app's sidecar, each with a gRPC client of Dapr's API.</summary>
    private sealed class HostAndCaller : IAsyncDisposable
    {
        private readonly TestMesh _mesh = new();
        private readonly ResourcesFolder _resources = new ResourcesFolder().WithComponent("store", "state.in-memory", ("actorStateStore", "true"));
        private readonly List<IAsyncDisposable> _started = [];
        private readonly List<GrpcChannel> _channels = [];

        public Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient FromHost { get; private set; } = null!;

        public Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient FromCaller { get; private set; } = null!;

        public static async Task<HostAndCaller> StartAsync()
        {
            var mesh = new HostAndCaller();
            try
            {
                var host = await ActorApp.StartAsync("counters", mesh._mesh, mesh._resources.Path, "host");
                mesh._started.Add(host);
                var caller = await SidecarProcess.StartAsync(new() { AppId = "storefront", ResourcesPaths = [mesh._resources.Path], MeshDirectory = mesh._mesh.Directory });
                mesh._started.Add(caller);
                mesh.FromHost = mesh.ClientOf(host.Sidecar.GrpcPort);
                mesh.FromCaller = mesh.ClientOf(caller.GrpcPort);
                return mesh;
            }
            catch
            {
                await mesh.DisposeAsync();
                throw;
            }
        }

        private Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient ClientOf(int grpcPort)
        {
            var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
            _channels.Add(channel);
            return new Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient(channel);
        }

        public async ValueTask DisposeAsync()
        {
            _channels.ForEach(c => c.Dispose());
            foreach (var started in Enumerable.Reverse(_started))
            {
                await started.DisposeAsync();
            }
            _resources.Dispose();
            _mesh.Dispose();
        }
    }

    [Fact]
    public async Task The_grpc_actor_methods_invoke_and_keep_state_like_the_http_ones()
    {
        await using var mesh = await HostAndCaller.StartAsync();
        var (fromHost, fromCaller) = (mesh.FromHost, mesh.FromCaller);

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

    [Fact]
    public async Task Reminders_are_listed_and_unregistered_by_type_or_by_actor_over_grpc()
    {
        await using var mesh = await HostAndCaller.StartAsync();
        var (fromHost, fromCaller) = (mesh.FromHost, mesh.FromCaller);
        foreach (var (id, name) in new[] { ("g", "a"), ("g", "b"), ("h", "a") })
        {
            await fromHost.RegisterActorReminderAsync(new RegisterActorReminderRequest { ActorType = "CounterActor", ActorId = id, Name = name, DueTime = "1h", Period = "10m", Data = ByteString.CopyFromUtf8($"{id}-{name}") });
        }
        async Task<string[]> Listed(string? actorId)
        {
            var request = new ListActorRemindersRequest { ActorType = "CounterActor" };
            if (actorId is not null)
            {
                request.ActorId = actorId;
            }
            var listed = await fromHost.ListActorRemindersAsync(request);
            return [.. listed.Reminders.Select(r => $"{r.Reminder.ActorId}/{r.Name}")];
        }

        var all = await fromHost.ListActorRemindersAsync(new ListActorRemindersRequest { ActorType = "CounterActor" });
        all.Reminders.Select(r => $"{r.Reminder.ActorId}/{r.Name}").Should().BeEquivalentTo(["g/a", "g/b", "h/a"]);
        var one = all.Reminders.Single(r => r.Reminder.ActorId == "h");
        one.Reminder.ActorType.Should().Be("CounterActor");
        one.Reminder.DueTime.Should().Be("1h");
        one.Reminder.Period.Should().Be("@every 10m0s");
        one.Reminder.HasTtl.Should().BeFalse();
        one.Reminder.Data.Unpack<BytesValue>().Value.ToStringUtf8().Should().Be("\"aC1h\"", "the data comes back as daprd keeps it: its JSON (base64) bytes");
        (await Listed("g")).Should().BeEquivalentTo(["g/a", "g/b"]);
        (await Listed("nobody")).Should().BeEmpty();

        var notHosted = async () => await fromCaller.ListActorRemindersAsync(new ListActorRemindersRequest { ActorType = "CounterActor" });
        (await notHosted.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.PermissionDenied);
        var notHostedDelete = async () => await fromCaller.UnregisterActorRemindersByTypeAsync(new UnregisterActorRemindersByTypeRequest { ActorType = "CounterActor" });
        (await notHostedDelete.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.PermissionDenied);
        (await Listed(null)).Should().HaveCount(3, "a refused delete deletes nothing");

        await fromHost.UnregisterActorRemindersByTypeAsync(new UnregisterActorRemindersByTypeRequest { ActorType = "CounterActor", ActorId = "g" });
        (await Listed(null)).Should().BeEquivalentTo(["h/a"]);
        var gone = async () => await fromHost.GetActorReminderAsync(new GetActorReminderRequest { ActorType = "CounterActor", ActorId = "g", Name = "a" });
        (await gone.Should().ThrowAsync<RpcException>()).Which.StatusCode.Should().Be(StatusCode.NotFound);

        await fromHost.UnregisterActorRemindersByTypeAsync(new UnregisterActorRemindersByTypeRequest { ActorType = "CounterActor" });
        (await Listed(null)).Should().BeEmpty();
    }
}
