using DaprShop.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DaprShop.Benchmarks;

/// <summary>
/// Service invocation at a fixed rate: the app called directly, through its own sidecar, and from another app's
/// sidecar through the mesh to the app's sidecar (caller app → sidecar → sidecar → app, Dapr's usual topology).
/// </summary>
public static class InvocationBench
{
    public const int Rate = 1000;
    public const double AddedP50TargetMs = 0.5;
    public const double AddedP99TargetMs = 2;

    /// <summary>How long the open loop stays on one path before the next takes over.</summary>
    private static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(500);

    public static async Task RunAsync(Durations durations, Report report)
    {
        using var mesh = new TestMesh();
        await using var app = await TestApp.StartAsync(a => a.MapGet("/ping", () => Results.Text("pong")));
        var started = await Sidecars.StartAllAsync(
            new() { AppId = "bench-callee", MeshDirectory = mesh.Directory, AppPort = app.Port },
            new() { AppId = "bench-caller", MeshDirectory = mesh.Directory });
        await using var callee = started[0];
        await using var caller = started[1];

        using var handler = new SocketsHttpHandler { UseCookies = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
        var direct = new Uri($"http://127.0.0.1:{app.Port}/ping");
        var oneHop = new Uri($"http://127.0.0.1:{callee.HttpPort}/v1.0/invoke/bench-callee/method/ping");
        var twoHops = new Uri($"http://127.0.0.1:{caller.HttpPort}/v1.0/invoke/bench-callee/method/ping");

        async Task Get(Uri uri, CancellationToken ct)
        {
            using var response = await http.GetAsync(uri, ct);
            response.EnsureSuccessStatusCode();
        }

        // Every path answers, then all of them run hard for a while: the sidecars JIT and tier up their hot
        // paths and grow their connection pools before anything is timed (a short warm-up at 1,000/s is not enough
        // on two busy cores: the JIT alone took most of the sidecar's CPU).
        var paths = new[] { direct, oneHop, twoHops };
        foreach (var uri in paths)
        {
            await Get(uri, CancellationToken.None);
        }
        var cpu = CpuMeter.ForSidecars(mesh);
        report.Notes.Add(await Load.WarmUpUntilJitQuietAsync("Invocation", durations.WarmUp * 5, durations.WarmUp * 30, cpu, length =>
        {
            app.Requests.Clear(); // the harness records every request; nobody reads them here
            return Load.ClosedLoopAsync("invoke warm-up", 8, TimeSpan.Zero, length, (w, i) => Get(paths[(w + i) % paths.Length], CancellationToken.None));
        }));
        app.Requests.Clear();

        // One open loop whose requests take the three paths in turn: measured one after another, each path met a
        // different machine whenever the host stalled (the p99s moved by tens of ms between runs); interleaved, every
        // path meets the same moments and the difference of percentiles is the sidecars' own.
        string[] names = [$"invoke GET /ping direct (app only) @ {Rate}/s", $"invoke GET /ping via 1 sidecar (app's own) @ {Rate}/s", $"invoke GET /ping via 2 sidecars (caller → callee) @ {Rate}/s"];
        var (phases, lag) = await Load.InterleavedOpenLoopAsync(names, Rate, durations.WarmUp, durations.Invoke, Slice, (path, ct) => Get(paths[path], ct), cpu);
        app.Requests.Clear(); // the harness records every request; nobody reads them here
        foreach (var phase in phases)
        {
            report.Add(phase);
        }
        if (lag.P99 > 1)
        {
            report.Notes.Add($"Invocation: the load generator started requests late (scheduler lag p99 {Report.Ms(lag.P99)} ms, max {Report.Ms(lag.Max)} ms): the machine was busy.");
        }
        report.Notes.Add($"Invocation: the machine over the measured window: {cpu.Window.Machine}.");
        var (d, one, two) = (phases[0], phases[1], phases[2]);

        report.Rows.Add(Row.Info("invoke direct p50 / p99", $"{Report.Ms(d.P50)} / {Report.Ms(d.P99)} ms"));
        report.Rows.Add(Row.Info("invoke via 1 sidecar p50 / p99", $"{Report.Ms(one.P50)} / {Report.Ms(one.P99)} ms"));
        report.Rows.Add(Row.AtMost("invoke added by 1 sidecar, p50", AddedP50TargetMs, one.P50 - d.P50));
        report.Rows.Add(Row.AtMost("invoke added by 1 sidecar, p99", AddedP99TargetMs, one.P99 - d.P99));
        report.Rows.Add(Row.Info("invoke via 2 sidecars p50 / p99", $"{Report.Ms(two.P50)} / {Report.Ms(two.P99)} ms"));
        report.Rows.Add(Row.AtMost("invoke added by 2 sidecars, p50", AddedP50TargetMs, two.P50 - d.P50));
        report.Rows.Add(Row.AtMost("invoke added by 2 sidecars, p99", AddedP99TargetMs, two.P99 - d.P99));
        report.Notes.Add($"Invocation: one open loop at a fixed {Rate} req/s whose requests take the three paths in turn, {Slice.TotalSeconds:0.##} s each (so that every path meets the same moments of a machine whose speed moves), {durations.Invoke.TotalSeconds:0.##} s per path after a {durations.WarmUp.TotalSeconds:0.##} s warm-up; CPU is counted per path by slice; \"added\" is the difference of the percentiles (sidecar path minus direct), not a percentile of differences.");
    }
}
