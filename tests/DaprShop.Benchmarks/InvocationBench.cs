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

        async Task<Stats> Phase(string name, Uri uri)
        {
            var (stats, lag) = await Load.OpenLoopAsync(name, Rate, durations.WarmUp, durations.Invoke, ct => Get(uri, ct), cpu);
            app.Requests.Clear(); // the harness records every request; nobody reads them here
            report.Add(stats);
            if (lag.P99 > 1)
            {
                report.Notes.Add($"{name}: the load generator started requests late (scheduler lag p99 {Report.Ms(lag.P99)} ms, max {Report.Ms(lag.Max)} ms): the machine was busy.");
            }
            return stats;
        }

        var d = await Phase($"invoke GET /ping direct (app only) @ {Rate}/s", direct);
        var one = await Phase($"invoke GET /ping via 1 sidecar (app's own) @ {Rate}/s", oneHop);
        var two = await Phase($"invoke GET /ping via 2 sidecars (caller → callee) @ {Rate}/s", twoHops);

        report.Rows.Add(Row.Info("invoke direct p50 / p99", $"{Report.Ms(d.P50)} / {Report.Ms(d.P99)} ms"));
        report.Rows.Add(Row.Info("invoke via 1 sidecar p50 / p99", $"{Report.Ms(one.P50)} / {Report.Ms(one.P99)} ms"));
        report.Rows.Add(Row.AtMost("invoke added by 1 sidecar, p50", AddedP50TargetMs, one.P50 - d.P50));
        report.Rows.Add(Row.AtMost("invoke added by 1 sidecar, p99", AddedP99TargetMs, one.P99 - d.P99));
        report.Rows.Add(Row.Info("invoke via 2 sidecars p50 / p99", $"{Report.Ms(two.P50)} / {Report.Ms(two.P99)} ms"));
        report.Rows.Add(Row.AtMost("invoke added by 2 sidecars, p50", AddedP50TargetMs, two.P50 - d.P50));
        report.Rows.Add(Row.AtMost("invoke added by 2 sidecars, p99", AddedP99TargetMs, two.P99 - d.P99));
        report.Notes.Add($"Invocation: open loop at a fixed {Rate} req/s, warm-up {durations.WarmUp.TotalSeconds:0.##} s then {durations.Invoke.TotalSeconds:0.##} s per path; \"added\" is the difference of the percentiles (sidecar path minus direct), not a percentile of differences.");
    }
}
