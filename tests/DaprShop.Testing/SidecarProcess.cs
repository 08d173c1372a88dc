using System.Collections.Concurrent;
using System.Diagnostics;
using Dapr.Client;

namespace DaprShop.Testing;

/// <summary>
/// A real sidecar process started with daprd's flags, as Dapr's CLI would start daprd. Its output is kept so a
/// failing test can show it; disposing kills the process.
/// </summary>
public sealed class SidecarProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private SidecarProcess(Process process, string appId, int httpPort, int grpcPort, string? apiToken)
    {
        _process = process;
        AppId = appId;
        HttpPort = httpPort;
        GrpcPort = grpcPort;
        ApiToken = apiToken;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { _output.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { _output.Enqueue(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string AppId { get; }
    public int HttpPort { get; }
    public int GrpcPort { get; }
    public string? ApiToken { get; }
    public Uri HttpEndpoint => new($"http://127.0.0.1:{HttpPort}");
    public string Output => string.Join(Environment.NewLine, _output);
    public bool HasExited => _process.HasExited;
    public int Pid => _process.Id;
    public int ExitCode => _process.ExitCode;

    public sealed record Options
    {
        public required string AppId { get; init; }
        public IReadOnlyList<string> ResourcesPaths { get; init; } = [];
        public int? AppPort { get; init; }
        public string? ConfigPath { get; init; }
        /// <summary>The local mesh this sidecar joins: sidecars of one test share it, tests do not.</summary>
        public required string MeshDirectory { get; init; }
        public string? ApiToken { get; init; }
        public string? AppApiToken { get; init; }
        public int? HttpPort { get; init; }
        public int? GrpcPort { get; init; }
        public IReadOnlyList<string> ExtraArgs { get; init; } = [];
        public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
        /// <summary>The process's working directory: relative paths in component metadata resolve against it.</summary>
        public string? WorkingDirectory { get; init; }
        /// <summary>Wait until <c>/v1.0/healthz</c> (app ready) rather than only the outbound health.</summary>
        public bool WaitForApp { get; init; } = true;
    }

    public static async Task<SidecarProcess> StartAsync(Options options, TimeSpan? timeout = null)
    {
        var process = Launch(options, out var httpPort, out var grpcPort);
        var sidecar = new SidecarProcess(process, options.AppId, httpPort, grpcPort, options.ApiToken);
        try
        {
            await sidecar.WaitHealthyAsync(options.WaitForApp ? "/v1.0/healthz" : "/v1.0/healthz/outbound", timeout ?? TimeSpan.FromSeconds(60));
        }
        catch
        {
            await sidecar.DisposeAsync();
            throw;
        }
        return sidecar;
    }

    /// <summary>Starts a sidecar expected to fail at start; returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(Options options, TimeSpan? timeout = null)
    {
        var process = Launch(options, out _, out _);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("the sidecar did not exit: " + await stdout + await stderr);
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    private static Process Launch(Options options, out int httpPort, out int grpcPort)
    {
        httpPort = options.HttpPort ?? Ports.Free();
        grpcPort = options.GrpcPort ?? Ports.Free();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = options.WorkingDirectory ?? "",
        };
        start.ArgumentList.Add(Repo.SidecarDll);
        void Arg(string name, string value)
        {
            start.ArgumentList.Add(name);
            start.ArgumentList.Add(value);
        }
        Arg("--app-id", options.AppId);
        Arg("--dapr-http-port", httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Arg("--dapr-grpc-port", grpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (options.AppPort is { } appPort)
        {
            Arg("--app-port", appPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        foreach (var path in options.ResourcesPaths)
        {
            Arg("--resources-path", path);
        }
        if (options.ConfigPath is not null)
        {
            Arg("--config", options.ConfigPath);
        }
        foreach (var extra in options.ExtraArgs)
        {
            start.ArgumentList.Add(extra);
        }
        start.Environment["DAPRSHOP_MESH_DIR"] = options.MeshDirectory;
        start.Environment.Remove("DAPR_API_TOKEN");
        start.Environment.Remove("APP_API_TOKEN");
        start.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        if (options.ApiToken is not null)
        {
            start.Environment["DAPR_API_TOKEN"] = options.ApiToken;
        }
        if (options.AppApiToken is not null)
        {
            start.Environment["APP_API_TOKEN"] = options.AppApiToken;
        }
        foreach (var (key, value) in options.Environment)
        {
            start.Environment[key] = value;
        }
        if (!File.Exists(Repo.SidecarDll))
        {
            throw new FileNotFoundException("build the solution first: the sidecar is missing", Repo.SidecarDll);
        }
        return Process.Start(start) ?? throw new InvalidOperationException("could not start the sidecar");
    }

    public async Task WaitHealthyAsync(string path, TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = HttpEndpoint, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the sidecar exited with code {_process.ExitCode}:{Environment.NewLine}{Output}");
            }
            try
            {
                using var response = await http.GetAsync(path);
                if (response.StatusCode == System.Net.HttpStatusCode.NoContent)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"the sidecar did not become healthy on {path}:{Environment.NewLine}{Output}");
    }

    public DaprClient CreateClient()
    {
        var builder = new DaprClientBuilder()
            .UseGrpcEndpoint($"http://127.0.0.1:{GrpcPort}")
            .UseHttpEndpoint($"http://127.0.0.1:{HttpPort}");
        if (ApiToken is not null)
        {
            builder.UseDaprApiToken(ApiToken);
        }
        return builder.Build();
    }

    public HttpClient CreateHttpClient()
    {
        var http = new HttpClient { BaseAddress = HttpEndpoint, Timeout = TimeSpan.FromSeconds(30) };
        if (ApiToken is not null)
        {
            http.DefaultRequestHeaders.Add("dapr-api-token", ApiToken);
        }
        return http;
    }

    /// <summary>Stops the process the hard way, as a crash would.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await Task.Yield();
        _process.Dispose();
    }
}
