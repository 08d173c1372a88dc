using System.Globalization;
using Dapr.Actors;
using Dapr.Actors.Runtime;
using DaprShop.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace DaprShop.Benchmarks;

public interface IBenchActor : IActor
{
    Task<int> Ping();
}

/// <summary>Counts reminder firings across every activation of the benchmark.</summary>
public sealed class ReminderCounter
{
    private long _fired;

    public long Fired => Interlocked.Read(ref _fired);

    public void Increment() => Interlocked.Increment(ref _fired);
}

public sealed class BenchActor(ActorHost host, ReminderCounter counter) : Actor(host), IBenchActor, IRemindable
{
    private int _calls;

    public Task<int> Ping() => Task.FromResult(++_calls);

    public Task ReceiveReminderAsync(string reminderName, byte[] state, TimeSpan dueTime, TimeSpan period)
    {
        counter.Increment();
        return Task.CompletedTask;
    }

    public Task StartReminderAsync(int periodSeconds) =>
        RegisterReminderAsync("tick", null, TimeSpan.FromMilliseconds(Random.Shared.Next(0, 1000)), TimeSpan.FromSeconds(periodSeconds));
}

/// <summary>
/// Actor calls per second to one id (turn-based: one at a time) and across many ids, and reminders fired per second,
/// with an app hosting the actor through the official Dapr.Actors SDK and its sidecar on the in-memory actor store.
/// </summary>
public static class ActorBench
{
    public const double AcrossIdsTargetPerSecond = 5_000;
    private const int Workers = 32;
    private const int Ids = 1_000;
    private const int ReminderActors = 1_000;

    public static async Task RunAsync(Durations durations, Report report)
    {
        using var resources = new ResourcesFolder().WithComponent("actorstore", "state.in-memory", ("actorStateStore", "true"));
        using var mesh = new TestMesh();
        var sidecarPort = Ports.Free();
        var counter = new ReminderCounter();
        await using var app = await TestApp.StartAsync(
            a => a.MapActorsHandlers(),
            s =>
            {
                s.AddSingleton(counter);
                s.AddActors(o =>
                {
                    o.HttpEndpoint = $"http://127.0.0.1:{sidecarPort}";
                    o.Actors.RegisterActor<BenchActor>();
                });
            });
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "bench-actors", AppPort = app.Port, HttpPort = sidecarPort, ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var handler = new SocketsHttpHandler { UseCookies = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan, MaxConnectionsPerServer = 256 };
        using var http = new HttpClient(handler) { BaseAddress = sidecar.HttpEndpoint, Timeout = TimeSpan.FromSeconds(30) };
        var cpu = CpuMeter.ForSidecars(mesh);

        // Dapr's HTTP actor API, as the SDK's non-remoting proxies call it.
        async Task Call(string id)
        {
            using var response = await http.PutAsync(new Uri($"/v1.0/actors/BenchActor/{id}/method/Ping", UriKind.Relative), null);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"actor call answered {(int)response.StatusCode}");
            }
            await response.Content.ReadAsByteArrayAsync();
        }
        string Id(int worker, long i) => ((worker * 7919 + i) % Ids).ToString(CultureInfo.InvariantCulture);

        await Load.ClosedLoopAsync("actor warm-up", Workers, TimeSpan.Zero, durations.WarmUp * 2, (w, i) => Call(Id(w, i)));
        var one = await Load.ClosedLoopAsync($"actor calls to one id ({Workers} callers)", Workers, durations.WarmUp, durations.State, (_, _) => Call("hot"), cpu);
        var many = await Load.ClosedLoopAsync($"actor calls across {Ids} ids ({Workers} callers)", Workers, durations.WarmUp, durations.State, (w, i) => Call(Id(w, i)), cpu);
        report.Add(one);
        report.Add(many);
        report.Rows.Add(Row.Info("actor calls to one id", $"{Report.Rate(one.Throughput)}/s (p50 {Report.Ms(one.P50)} ms, p99 {Report.Ms(one.P99)} ms)"));
        report.Rows.Add(Row.AtLeast($"actor calls across {Ids} ids", AcrossIdsTargetPerSecond, many.Throughput) with
        {
            Measured = $"{Report.Rate(many.Throughput)}/s (p50 {Report.Ms(many.P50)} ms, p99 {Report.Ms(many.P99)} ms)",
        });

        // Reminders: every actor registers a 1-second reminder; count firings over the measured window.
        await Parallel.ForEachAsync(Enumerable.Range(0, ReminderActors), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            // The durations in the form the .NET SDK writes (and parses back in the reminder callback).
            using var content = new StringContent("""{"dueTime":"0h0m0s0ms","period":"0h0m1s0ms"}""", System.Text.Encoding.UTF8, "application/json");
            using var response = await http.PutAsync(new Uri($"/v1.0/actors/BenchActor/r{i}/reminders/tick", UriKind.Relative), content, ct);
            response.EnsureSuccessStatusCode();
        });
        await Task.Delay(durations.WarmUp + TimeSpan.FromSeconds(1));
        var window = durations.State * 2;
        var before = counter.Fired;
        await Task.Delay(window);
        var perSecond = (counter.Fired - before) / window.TotalSeconds;
        if (counter.Fired == 0)
        {
            Console.WriteLine("  no reminder fired; the sidecar said:" + Environment.NewLine + string.Join(Environment.NewLine, sidecar.Output.Split('\n').TakeLast(15)));
        }
        report.Rows.Add(Row.Info($"reminders fired ({ReminderActors} actors, period 1 s)", $"{Report.Rate(perSecond)}/s (ideal {Report.Rate(ReminderActors)}/s)"));
        report.Notes.Add($"Actors: an app hosting one actor type through Dapr.Actors.AspNetCore, its sidecar on `state.in-memory` (actorStateStore); {Workers} closed-loop callers over Dapr's HTTP actor API (`PUT /v1.0/actors/{{type}}/{{id}}/method/{{m}}`), to one id (turn-based, one call at a time) and across {Ids} ids; reminders: {ReminderActors} actors with a 1 s reminder each, firings counted in the app.");
    }
}
