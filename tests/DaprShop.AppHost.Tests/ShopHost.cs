using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Aspire.Hosting.ApplicationModel;
using DaprShop.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DaprShop.AppHost.Tests;

/// <summary>
/// The whole shop as the README's run command starts it: the real AppHost (through Aspire.Hosting.Testing), every
/// service with DaprShop's sidecar, the gateway and the storefront, on a copy of components/default whose data lives
/// in a folder of this fixture's own. The gateway gets a free port so a developer's running shop is left alone.
/// </summary>
public sealed class ShopHost : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(5);

    private ShopHost(DistributedApplication app, string folder, int gatewayPort)
    {
        App = app;
        Folder = folder;
        Gateway = new Uri($"http://localhost:{gatewayPort}");
    }

    public DistributedApplication App { get; }

    /// <summary>This shop's resources and data; a second <see cref="StartAsync"/> on it is a restart.</summary>
    public string Folder { get; }

    public Uri Gateway { get; }

    public string OutboxDirectory => Path.Combine(Folder, "outbox");

    public static string NewFolder()
    {
        var folder = Directory.CreateTempSubdirectory("daprshop-apphost-").FullName;
        // The postgres profile's server runs as the postgres OS user, which must reach its data folder in here.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(folder, (UnixFileMode)0b111_101_101);
        }
        return folder;
    }

    /// <summary>Starts the shop on a copy of <c>components/{profile}</c> whose data lives under <paramref name="folder"/>.</summary>
    public static async Task<ShopHost> StartAsync(string? folder = null, string profile = "default")
    {
        folder ??= NewFolder();
        var resources = Path.Combine(folder, "components");
        if (!Directory.Exists(resources))
        {
            Profiles.CopyTo(resources, Path.Combine(folder, "data"), Path.Combine(folder, "outbox"), profile);
        }
        var gatewayPort = Ports.Free();
        using var timeout = new CancellationTokenSource(StartTimeout);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.DaprShop_AppHost>(
            [
                $"--DaprShop:ResourcesPath={resources}",
                $"--DaprShop:DataDirectory={Path.Combine(folder, "data")}",
                $"--DaprShop:GatewayPort={gatewayPort}",
                "--DaprShop:UseEmbeddedSidecar=true",
                $"--profile={profile}",
            ],
            timeout.Token);
        // Each resource's own output goes to LogsFolder; the host's start-up chatter (health probes failing until a
        // service is up) would only bury the test results.
        builder.Services.AddLogging(logging => logging
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None)
            .AddFilter("Aspire.Hosting", LogLevel.Warning)
            // Aspire.Hosting.Testing forwards each resource's console here too (category "<AppHost>.Resources.<name>").
            .AddFilter("DaprShop.AppHost.Resources", LogLevel.Warning));
        var app = await builder.BuildAsync(timeout.Token);
        var host = new ShopHost(app, folder, gatewayPort);
        try
        {
            host.KeepLogs();
            await app.StartAsync(timeout.Token);
            // Every resource of the model, sidecars included, but those that start only on request (Aspire's
            // per-project rebuilders).
            var model = app.Services.GetRequiredService<DistributedApplicationModel>();
            await Task.WhenAll(model.Resources
                .Where(r => !r.TryGetLastAnnotation<ExplicitStartupAnnotation>(out _))
                .Select(r => app.ResourceNotifications.WaitForResourceHealthyAsync(r.Name, timeout.Token)));
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
        return host;
    }

    /// <summary>Where every resource's console output goes, one file each, so a failure in CI can be read afterwards.</summary>
    public string LogsFolder => Path.Combine(Repo.Root, "artifacts", "apphost-logs", Path.GetFileName(Folder));

    private void KeepLogs()
    {
        Directory.CreateDirectory(LogsFolder);
        var logs = App.Services.GetRequiredService<ResourceLoggerService>();
        foreach (var resource in App.Services.GetRequiredService<DistributedApplicationModel>().Resources)
        {
            _ = Task.Run(async () =>
            {
                await using var file = new StreamWriter(Path.Combine(LogsFolder, resource.Name + ".log"), append: true) { AutoFlush = true };
                try
                {
                    await foreach (var batch in logs.WatchAsync(resource).WithCancellation(_stopping.Token))
                    {
                        foreach (var line in batch)
                        {
                            await file.WriteLineAsync(line.Content);
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                    // The shop stopped.
                }
            });
        }
    }

    private readonly CancellationTokenSource _stopping = new();

    /// <summary>The process the orchestrator started for a resource (its snapshot's <c>executable.pid</c>).</summary>
    public int ProcessIdOf(string resource)
    {
        if (!App.ResourceNotifications.TryGetCurrentState(resource, out var state))
        {
            throw new InvalidOperationException($"no resource '{resource}'");
        }
        var pid = state.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value;
        return pid is null ? throw new InvalidOperationException($"'{resource}' has no process id") : Convert.ToInt32(pid, System.Globalization.CultureInfo.InvariantCulture);
    }

    public HttpClient CreateGatewayClient() => new() { BaseAddress = Gateway, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>An HTTP client straight to a service's own endpoint, bypassing Dapr.</summary>
    public HttpClient CreateDirectClient(string service) => App.CreateHttpClient(service, "http");

    public async ValueTask DisposeAsync()
    {
        // StopAsync waits for every process to end, so a restart on the same folder never races the old sidecars.
        await App.StopAsync();
        await _stopping.CancelAsync();
        await App.DisposeAsync();
    }
}
