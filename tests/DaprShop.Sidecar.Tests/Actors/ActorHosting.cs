using Dapr.Actors;
using Dapr.Actors.Client;
using Dapr.Actors.Runtime;
using DaprShop.Sidecar.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace DaprShop.Sidecar.Tests.Actors;

/// <summary>An app hosting <see cref="CounterActor"/> with the official SDK, and its real sidecar.</summary>
public sealed class ActorApp : IAsyncDisposable
{
    public required TestApp App { get; set; }
    public required SidecarProcess Sidecar { get; set; }
    public required ActorProbe Probe { get; set; }
    public required int SidecarHttpPort { get; init; }
    public required int AppPort { get; init; }

    public static async Task<ActorApp> StartAsync(string appId, TestMesh mesh, string resources, string probeName, Action<ActorRuntimeOptions>? configure = null, string? configPath = null)
    {
        var sidecarPort = Ports.Free();
        var probe = new ActorProbe(probeName);
        var app = await StartAppAsync(probe, sidecarPort, configure);
        var sidecar = await SidecarProcess.StartAsync(new() { AppId = appId, AppPort = app.Port, ResourcesPaths = [resources], MeshDirectory = mesh.Directory, HttpPort = sidecarPort, ConfigPath = configPath });
        return new ActorApp { App = app, Sidecar = sidecar, Probe = probe, SidecarHttpPort = sidecarPort, AppPort = app.Port };
    }

    public static Task<TestApp> StartAppAsync(ActorProbe probe, int sidecarPort, Action<ActorRuntimeOptions>? configure = null, int? port = null) =>
        TestApp.StartAsync(
            a => a.MapActorsHandlers(),
            s =>
            {
                s.AddSingleton(probe);
                s.AddActors(o =>
                {
                    o.HttpEndpoint = $"http://127.0.0.1:{sidecarPort}";
                    o.Actors.RegisterActor<CounterActor>();
                    configure?.Invoke(o);
                });
            },
            port);

    /// <summary>Stops the app process part (the SDK host) and starts a fresh one on the same port.</summary>
    public async Task RestartAppAsync(string probeName, Action<ActorRuntimeOptions>? configure = null)
    {
        await App.DisposeAsync();
        Probe = new ActorProbe(probeName);
        App = await StartAppAsync(Probe, SidecarHttpPort, configure, AppPort);
    }

    public ICounterActor Proxy(string id) => Counter(SidecarHttpPort, id);

    public static ICounterActor Counter(int sidecarHttpPort, string id) =>
        ActorProxy.Create<ICounterActor>(new ActorId(id), nameof(CounterActor), new ActorProxyOptions { HttpEndpoint = $"http://127.0.0.1:{sidecarHttpPort}" });

    public async ValueTask DisposeAsync()
    {
        await Sidecar.DisposeAsync();
        await App.DisposeAsync();
    }
}
