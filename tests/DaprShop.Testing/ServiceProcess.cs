using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace DaprShop.Testing;

/// <summary>
/// One of the shop's services as a real process, with its own real sidecar, as the AppHost or <c>dapr run</c>
/// would start it: the service finds its sidecar through <c>DAPR_HTTP_PORT</c>/<c>DAPR_GRPC_PORT</c>.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Options _options;
    private readonly ConcurrentQueue<string> _output = new();
    private Process? _process;

    private ServiceProcess(Options options, SidecarProcess sidecar, int appPort)
    {
        _options = options;
        Sidecar = sidecar;
        AppPort = appPort;
    }

    public sealed record Options
    {
        /// <summary>
        /// The project folder under <c>services/</c>, e.g. "Catalog" for services/Catalog/DaprShop.Catalog.csproj, or a
        /// folder from the repository root for an app elsewhere, e.g. "web/Storefront".
        /// </summary>
        public required string Project { get; init; }
        public required string AppId { get; init; }
        public required string MeshDirectory { get; init; }
        public IReadOnlyList<string> ResourcesPaths { get; init; } = [];
        /// <summary>The sidecar's Configuration; by default the shop's own (components/default/configuration.yaml), as the services run.</summary>
        public string? ConfigPath { get; init; } = Path.Combine(Repo.Root, "components", "default", "configuration.yaml");
        public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
        /// <summary>Working directory of both processes (relative paths in components resolve against it).</summary>
        public string? WorkingDirectory { get; init; }
        /// <summary>
        /// <c>DAPR_API_TOKEN</c> for both processes: the sidecar requires it on every API call, the service presents it.
        /// </summary>
        public string? ApiToken { get; init; }
    }

    public SidecarProcess Sidecar { get; }
    public int AppPort { get; }
    public Uri AppEndpoint => new($"http://127.0.0.1:{AppPort}");

    /// <summary>The service's process id (it changes with <see cref="RestartServiceAsync"/>); null before it starts.</summary>
    public int? ServicePid => _process is { HasExited: false } p ? p.Id : null;
    public string Output => string.Join(System.Environment.NewLine, _output) + System.Environment.NewLine + "--- sidecar ---" + System.Environment.NewLine + Sidecar.Output;

    public static string DllOf(string project) =>
        Path.Combine(Repo.Root, project.Contains('/') ? project : Path.Combine("services", project), "bin", Repo.Configuration, "net10.0",
            $"DaprShop.{Path.GetFileName(project)}.dll");

    public static async Task<ServiceProcess> StartAsync(Options options, TimeSpan? timeout = null)
    {
        var appPort = Ports.Free();
        var sidecar = await SidecarProcess.StartAsync(new()
        {
            AppId = options.AppId,
            AppPort = appPort,
            ResourcesPaths = options.ResourcesPaths,
            ConfigPath = options.ConfigPath,
            MeshDirectory = options.MeshDirectory,
            WorkingDirectory = options.WorkingDirectory,
            WaitForApp = false,
            ApiToken = options.ApiToken,
        });
        var service = new ServiceProcess(options, sidecar, appPort);
        try
        {
            await service.StartServiceAsync(timeout ?? TimeSpan.FromSeconds(90));
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
        return service;
    }

    private async Task StartServiceAsync(TimeSpan timeout)
    {
        var dll = DllOf(_options.Project);
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"build the solution first: {dll} is missing", dll);
        }
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _options.WorkingDirectory ?? Path.GetDirectoryName(dll)!,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{AppPort}");
        start.Environment["DAPR_HTTP_PORT"] = Sidecar.HttpPort.ToString(CultureInfo.InvariantCulture);
        start.Environment["DAPR_GRPC_PORT"] = Sidecar.GrpcPort.ToString(CultureInfo.InvariantCulture);
        start.Environment["APP_ID"] = _options.AppId;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        // As the AppHost's local mesh runs the services (DaprShop.AppHost.LocalRuntime, docs/apphost.md).
        start.Environment[CodeMappings.WriteXorExecuteVariable] = "0";
        start.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        start.Environment.Remove("DAPR_API_TOKEN");
        if (_options.ApiToken is not null)
        {
            start.Environment["DAPR_API_TOKEN"] = _options.ApiToken;
        }
        foreach (var (key, value) in _options.Environment)
        {
            start.Environment[key] = value;
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + dll);
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) { _output.Enqueue(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { _output.Enqueue(e.Data); } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        // Ready when the sidecar has found the app and read its subscriptions, and the app says it is healthy.
        await Sidecar.WaitHealthyAsync("/v1.0/healthz", timeout);
        using var http = new HttpClient { BaseAddress = AppEndpoint, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{_options.Project} exited with code {_process.ExitCode}:{System.Environment.NewLine}{Output}");
            }
            try
            {
                if ((await http.GetAsync("/health")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
                // A slow /health (a busy machine, a service still warming up) is "not yet", not a failure.
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{_options.Project} did not become healthy:{System.Environment.NewLine}{Output}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>An HTTP client to the service itself (not through Dapr).</summary>
    public HttpClient CreateHttpClient() => new() { BaseAddress = AppEndpoint, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Kills the service (not its sidecar), as a crash would.</summary>
    public void KillService()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    /// <summary>Starts the service again after <see cref="KillService"/>, on the same port and sidecar.</summary>
    public Task RestartServiceAsync(TimeSpan? timeout = null)
    {
        KillService();
        _process?.Dispose();
        return StartServiceAsync(timeout ?? TimeSpan.FromSeconds(90));
    }

    public async ValueTask DisposeAsync()
    {
        KillService();
        _process?.Dispose();
        await Sidecar.DisposeAsync();
    }
}
