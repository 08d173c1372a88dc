using System.Net.Sockets;
using DaprShop.Sidecar.Mesh;
using DaprShop.Sidecar.Runtime;
using DaprShop.Sidecar.Runtime.Actors;

namespace DaprShop.Sidecar.Hosting;

/// <summary>
/// The start-up sequence daprd follows: components first, then the API ports (outbound health turns green),
/// then wait for the app's port, read its subscriptions, start input bindings (health turns green).
/// </summary>
public sealed class SidecarRuntimeHost(
    SidecarOptions options,
    ComponentHost components,
    MeshRegistry mesh,
    AppChannel app,
    Subscriptions subscriptions,
    BindingsApi bindings,
    AppHealthMonitor health,
    ActorRuntime actors,
    ActorReminders reminders,
    SidecarState state,
    IHostApplicationLifetime lifetime,
    ILogger<SidecarRuntimeHost> logger) : BackgroundService
{
    /// <summary>Runs after the web host listens, so other sidecars can reach this one as soon as it is announced.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await WaitForStartedAsync(stoppingToken);
        mesh.Register();
        state.OutboundReady = true;
        logger.LogInformation("dapr initialized. Status: Running. HTTP port {Http}, gRPC port {Grpc}", options.DaprHttpPort, options.DaprGrpcPort);

        if (app.HasApp)
        {
            logger.LogInformation("Waiting for the app on {Address}", app.BaseAddress);
            await WaitForAppPortAsync(stoppingToken);
            logger.LogInformation("The app is listening on port {Port}", options.AppPort);
        }
        app.IsReady = true;
        _ = Task.Run(() => health.RunAsync(stoppingToken), stoppingToken);
        // Actors: read the app's /dapr/config, announce the hosted types (placement), load their reminders.
        await actors.StartAsync(stoppingToken);
        await subscriptions.StartAsync(stoppingToken);
        await bindings.StartInputBindingsAsync(stoppingToken);
        state.Ready = true;
        logger.LogInformation("The sidecar for app '{AppId}' is ready", options.AppId);

        using var shutdown = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, state.ShutdownRequested.Token);
        try
        {
            await Task.Delay(Timeout.Infinite, shutdown.Token);
        }
        catch (OperationCanceledException)
        {
        }
        if (state.ShutdownRequested.IsCancellationRequested)
        {
            logger.LogInformation("Shutdown requested through the API");
            lifetime.StopApplication();
        }
    }

    private Task WaitForStartedAsync(CancellationToken ct)
    {
        var started = new TaskCompletionSource();
        lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        return started.Task.WaitAsync(ct);
    }

    private async Task WaitForAppPortAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(options.AppChannelAddress, options.AppPort!.Value, ct);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50, ct);
            }
        }
        ct.ThrowIfCancellationRequested();
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        state.Ready = false;
        mesh.Unregister();
        await reminders.DisposeAsync();
        await actors.DeactivateAllAsync(TimeSpan.FromSeconds(5));
        await actors.DisposeAsync();
        await subscriptions.DisposeAsync();
        await base.StopAsync(cancellationToken);
        await components.DisposeAsync();
    }
}
