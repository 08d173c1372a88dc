using System.Collections.Concurrent;
using Dapr.Workflow;
using Dapr.Workflow.Registration;
using DaprShop.Sidecar.Tests.Infrastructure;
using Grpc.Net.ClientFactory;
using Microsoft.Extensions.DependencyInjection;

namespace DaprShop.Sidecar.Tests.Workflows;

/// <summary>Counts what the test app's activities did, across restarts of the app.</summary>
public sealed class ActivityLog
{
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

    public int Record(string key) => _counts.AddOrUpdate(key, 1, (_, n) => n + 1);

    public int Count(string key) => _counts.TryGetValue(key, out var n) ? n : 0;

    /// <summary>The trace id an activity ran in, by workflow instance id.</summary>
    public ConcurrentDictionary<string, string> Traces { get; } = new(StringComparer.Ordinal);

    /// <summary>Gates an activity may wait on, opened by the test.</summary>
    public ConcurrentDictionary<string, TaskCompletionSource> Gates { get; } = new(StringComparer.Ordinal);

    /// <summary>Waits while the test holds a gate closed for <paramref name="key"/>; no gate means go.</summary>
    public Task Gate(string key) => Gates.TryGetValue(key, out var gate) ? gate.Task : Task.CompletedTask;

    public void Close(string key) => Gates[key] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Open(string key) => Gates[key].TrySetResult();
}

/// <summary>
/// A real sidecar process with an actor state store, and a test app running the official Dapr.Workflow worker
/// against its gRPC port; <see cref="Client"/> is the SDK's <see cref="DaprWorkflowClient"/>.
/// </summary>
public sealed class WorkflowHost : IAsyncDisposable
{
    private readonly TestMesh _mesh = new();
    private readonly ResourcesFolder _resources = new();
    private readonly string? _sqliteFolder;
    private readonly int _httpPort = Ports.Free();
    private readonly int _grpcPort = Ports.Free();

    private readonly string? _configPath;

    private WorkflowHost(bool sqlite, string? configurationSpec)
    {
        if (configurationSpec is not null)
        {
            // In the resources folder (removed with it): the sidecar skips a Configuration there, as daprd does.
            _configPath = Path.Combine(_resources.Path, "config.yaml");
            File.WriteAllText(_configPath, $"apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: wfconfig\nspec:\n{configurationSpec}");
        }
        if (sqlite)
        {
            _sqliteFolder = Directory.CreateTempSubdirectory("daprshop-wf-").FullName;
            _resources.WithComponent("actorstore", "state.sqlite", ("connectionString", Path.Combine(_sqliteFolder, "state.sqlite")), ("actorStateStore", "true"));
        }
        else
        {
            _resources.WithComponent("actorstore", "state.in-memory", ("actorStateStore", "true"));
        }
        Client = new DaprWorkflowClientBuilder().UseGrpcEndpoint($"http://127.0.0.1:{_grpcPort}").Build();
    }

    public ActivityLog Log { get; } = new();
    public SidecarProcess Sidecar { get; private set; } = null!;
    public TestApp? App { get; private set; }
    public DaprWorkflowClient Client { get; }

    /// <summary>Further command-line arguments of the sidecar, read at each (re)start.</summary>
    public IReadOnlyList<string> SidecarArgs { get; set; } = [];

    /// <param name="configurationSpec">The <c>spec</c> of a Configuration file for the sidecar (YAML indented by two spaces), if any.</param>
    public static async Task<WorkflowHost> StartAsync(bool sqlite = false, bool withApp = true, string? configurationSpec = null, IReadOnlyList<string>? sidecarArgs = null)
    {
        var host = new WorkflowHost(sqlite, configurationSpec) { SidecarArgs = sidecarArgs ?? [] };
        try
        {
            await host.StartSidecarAsync();
            if (withApp)
            {
                await host.StartAppAsync();
            }
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
        return host;
    }

    public async Task StartSidecarAsync() =>
        Sidecar = await SidecarProcess.StartAsync(new SidecarProcess.Options
        {
            AppId = "wfapp",
            ResourcesPaths = [_resources.Path],
            MeshDirectory = _mesh.Directory,
            HttpPort = _httpPort,
            GrpcPort = _grpcPort,
            ConfigPath = _configPath,
            ExtraArgs = SidecarArgs,
        });

    /// <summary>Kills the sidecar as a crash would and starts it again on the same ports and store.</summary>
    public async Task RestartSidecarAsync()
    {
        Sidecar.Kill();
        await Sidecar.DisposeAsync();
        await StartSidecarAsync();
    }

    public async Task StartAppAsync()
    {
        var grpcPort = _grpcPort;
        var log = Log;
        App = await TestApp.StartAsync(_ => { }, services =>
        {
            services.AddSingleton(log);
            services.AddDaprWorkflow(o =>
            {
                o.RegisterWorkflow<ChainWorkflow>();
                o.RegisterWorkflow<RetryWorkflow>();
                o.RegisterWorkflow<TimerWorkflow>();
                o.RegisterWorkflow<EventWorkflow>();
                o.RegisterWorkflow<EventWithTimeoutWorkflow>();
                o.RegisterWorkflow<ParentWorkflow>();
                o.RegisterWorkflow<DetachedChildWorkflow>();
                o.RegisterWorkflow<ChildWorkflow>();
                o.RegisterWorkflow<FanOutWorkflow>();
                o.RegisterWorkflow<CounterWorkflow>();
                o.RegisterWorkflow<FailingWorkflow>();
                o.RegisterWorkflow<StepsWorkflow>();
                o.RegisterWorkflow<SingleActivityWorkflow>();
                o.RegisterWorkflow<PatchedWorkflow>();
                o.RegisterWorkflow<LatePatchWorkflow>();
                o.RegisterActivity<ConcatActivity>();
                o.RegisterActivity<FlakyActivity>();
                o.RegisterActivity<SquareActivity>();
                o.RegisterActivity<BoomActivity>();
                o.RegisterActivity<StepActivity>();
                o.RegisterWorkflow<GrowingWorkflow>();
                o.RegisterActivity<PaddingActivity>();
            });
            services.PostConfigureAll<GrpcClientFactoryOptions>(o => o.Address = new Uri($"http://127.0.0.1:{grpcPort}"));
        });
    }

    public async Task StopAppAsync()
    {
        if (App is not null)
        {
            await App.DisposeAsync();
            App = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAppAsync();
        await Client.DisposeAsync();
        if (Sidecar is not null)
        {
            await Sidecar.DisposeAsync();
        }
        _resources.Dispose();
        _mesh.Dispose();
        if (_sqliteFolder is not null)
        {
            try
            {
                Directory.Delete(_sqliteFolder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
