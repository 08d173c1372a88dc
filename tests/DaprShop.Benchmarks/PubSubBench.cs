using System.Diagnostics;
using System.Text.Json;
using DaprShop.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DaprShop.Benchmarks;

/// <summary>
/// Publish-to-delivery on <c>pubsub.in-memory</c>: the benchmark publishes through the SDK at a steady rate, each
/// message carrying the time it was published; the app (same process, same clock) notes when it arrives.
/// </summary>
public static class PubSubBench
{
    public const int Rate = 500;
    public const double P50TargetMs = 2;

    public sealed record Event(long Sent, long Seq);

    public static async Task RunAsync(Durations durations, Report report)
    {
        var capacity = (int)(Rate * (durations.PubSub.TotalSeconds + durations.WarmUp.TotalSeconds) * 1.5) + 1024;
        var delivered = new LatencyRecorder(capacity);
        long measureFrom = long.MaxValue, measureTo = long.MaxValue, received = 0, warmReceived = 0;

        await using var app = await TestApp.StartAsync(a =>
        {
            a.MapGet("/dapr/subscribe", () => Results.Json(new[] { new { pubsubname = "pubsub", topic = "bench", route = "/events" } }));
            a.MapPost("/events", async (HttpRequest request) =>
            {
                var arrived = Stopwatch.GetTimestamp();
                using var doc = await JsonDocument.ParseAsync(request.Body);
                var sent = doc.RootElement.GetProperty("data").GetProperty("sent").GetInt64();
                if (sent >= Volatile.Read(ref measureFrom) && sent < Volatile.Read(ref measureTo))
                {
                    delivered.Record(arrived - sent);
                    Interlocked.Increment(ref received);
                }
                else
                {
                    Interlocked.Increment(ref warmReceived);
                }
                return Results.Json(new { status = "SUCCESS" });
            });
        });
        using var resources = new ResourcesFolder().WithComponent("pubsub", "pubsub.in-memory");
        using var mesh = new TestMesh();
        await using var sidecar = (await Sidecars.StartAllAsync(new SidecarProcess.Options { AppId = "bench-pubsub", MeshDirectory = mesh.Directory, ResourcesPaths = [resources.Path], AppPort = app.Port }))[0];
        using var client = sidecar.CreateClient();

        // The subscription is live once a first message comes through.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (Interlocked.Read(ref warmReceived) == 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("no message reached the app: " + sidecar.Output);
            }
            await client.PublishEventAsync("pubsub", "bench", new Event(Stopwatch.GetTimestamp(), -1));
            await Task.Delay(50);
        }

        // A burst first, so that the sidecar has compiled its publish and delivery paths before the steady rate.
        long warmPublished = Interlocked.Read(ref warmReceived);
        await Load.ClosedLoopAsync("pubsub warm-up", 8, TimeSpan.Zero, durations.WarmUp, async (_, i) =>
        {
            await client.PublishEventAsync("pubsub", "bench", new Event(Stopwatch.GetTimestamp(), -1));
            Interlocked.Increment(ref warmPublished);
        });
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (Interlocked.Read(ref warmReceived) < Interlocked.Read(ref warmPublished) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20); // the backlog drains before anything is timed
        }

        long seq = 0, published = 0;
        var frequency = Stopwatch.Frequency;
        var start = Stopwatch.GetTimestamp();
        Volatile.Write(ref measureFrom, start + (long)(durations.WarmUp.TotalSeconds * frequency));
        Volatile.Write(ref measureTo, start + (long)((durations.WarmUp + durations.PubSub).TotalSeconds * frequency));
        var cpu = CpuMeter.ForSidecars(mesh);
        var (publish, _) = await Load.OpenLoopAsync($"pubsub publish call gRPC @ {Rate}/s", Rate, durations.WarmUp, durations.PubSub, async ct =>
        {
            var sent = Stopwatch.GetTimestamp();
            await client.PublishEventAsync("pubsub", "bench", new Event(sent, Interlocked.Increment(ref seq)), ct);
            if (sent >= measureFrom && sent < measureTo)
            {
                Interlocked.Increment(ref published);
            }
        }, cpu);
        // Wait for the last messages of the window to arrive.
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (Interlocked.Read(ref received) < Interlocked.Read(ref published) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        app.Requests.Clear();
        var stats = delivered.Summarize($"pubsub publish → delivery (in-memory) @ {Rate}/s", durations.PubSub).WithCpu(cpu.Window);
        report.Add(publish);
        report.Add(stats);
        var lost = Interlocked.Read(ref published) - Interlocked.Read(ref received);
        report.Rows.Add(Row.AtMost("pubsub publish → delivery (in-memory), p50", P50TargetMs, stats.P50));
        report.Rows.Add(Row.Info("pubsub publish → delivery (in-memory), p99", $"{Report.Ms(stats.P99)} ms"));
        report.Notes.Add($"Pub/sub: open loop at {Rate} msg/s through DaprClient.PublishEventAsync (gRPC), warm-up {durations.WarmUp.TotalSeconds:0.##} s then {durations.PubSub.TotalSeconds:0.##} s; latency from just before the publish call to the app's handler (CloudEvent, programmatic subscription). {Interlocked.Read(ref published)} published in the window, {Interlocked.Read(ref received)} delivered{(lost > 0 ? $", {lost} NOT delivered within 5 s" : "")}.");
    }
}
