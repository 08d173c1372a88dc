using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using DaprShop.Testing;

namespace DaprShop.Benchmarks;

/// <summary>
/// State get and save, closed loop with several concurrent workers: over gRPC with the official DaprClient and over
/// HTTP with a plain HttpClient, against one state store component.
/// </summary>
public static class StateBench
{
    public const double GrpcGetTargetPerSecond = 10_000;
    public const int Workers = 16;
    public const int Keys = 1_000;
    private const string Store = "statestore";

    public sealed record Item(int Id, string Name, decimal Price, string[] Tags);

    /// <param name="type">The component type, <c>state.in-memory</c> or <c>state.sqlite</c>.</param>
    public static async Task RunAsync(string type, Durations durations, Report report)
    {
        var label = type["state.".Length..];
        using var resources = new ResourcesFolder();
        var metadata = type == "state.sqlite"
            ? new[] { ("connectionString", Path.Combine(resources.Path, "state.db")) }
            : [];
        resources.WithComponent(Store, type, metadata);
        using var mesh = new TestMesh();

        SidecarProcess sidecar;
        try
        {
            sidecar = (await Sidecars.StartAllAsync(new SidecarProcess.Options { AppId = "bench-state", MeshDirectory = mesh.Directory, ResourcesPaths = [resources.Path] }))[0];
        }
        catch (Exception ex) when (type != "state.in-memory" && ex is InvalidOperationException or TimeoutException)
        {
            var reason = ex.Message.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Contains(type, StringComparison.Ordinal)) ?? ex.Message.Split('\n')[0];
            Console.WriteLine($"  {type}: not available ({reason})");
            report.Notes.Add($"`{type}`: not available — the sidecar did not start with it ({reason.Replace("|", "\\|", StringComparison.Ordinal)}).");
            foreach (var op in new[] { "get gRPC", "save gRPC", "get HTTP", "save HTTP" })
            {
                report.Rows.Add(Row.Unavailable($"state {op} ({label})", "—"));
            }
            return;
        }
        await using var _ = sidecar;
        using var client = sidecar.CreateClient();
        using var handler = new SocketsHttpHandler { UseCookies = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var http = new HttpClient(handler) { BaseAddress = sidecar.HttpEndpoint, Timeout = TimeSpan.FromSeconds(10) };

        var keys = Enumerable.Range(0, Keys).Select(i => "item-" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var items = Enumerable.Range(0, Keys).Select(i => new Item(i, $"Product {i}", 9.99m + i, ["bench", "state"])).ToArray();
        var bodies = items.Select((item, i) => JsonSerializer.SerializeToUtf8Bytes(new[] { new { key = keys[i], value = item } }, JsonSerializerOptions.Web)).ToArray();
        foreach (var (key, item) in keys.Zip(items))
        {
            await client.SaveStateAsync(Store, key, item);
        }

        // Each worker walks the keys from its own offset, so they neither share one key nor always collide.
        string Key(int worker, long i) => keys[(int)((worker * 61 + i) % Keys)];
        int Index(int worker, long i) => (int)((worker * 61 + i) % Keys);

        var cpu = CpuMeter.ForSidecars(mesh);
        async Task<Stats> Phase(string name, Func<int, long, Task> call)
        {
            var stats = await Load.ClosedLoopAsync(name, Workers, durations.WarmUp, durations.State, call, cpu);
            report.Add(stats);
            return stats;
        }

        Func<int, long, Task> grpcGetCall = async (w, i) =>
        {
            var value = await client.GetStateAsync<Item>(Store, Key(w, i));
            if (value is null)
            {
                throw new InvalidOperationException("missing value");
            }
        };
        Func<int, long, Task> grpcSaveCall = (w, i) =>
        {
            var n = Index(w, i);
            return client.SaveStateAsync(Store, keys[n], items[n]);
        };
        Func<int, long, Task> httpGetCall = async (w, i) =>
        {
            using var response = await http.GetAsync(new Uri($"/v1.0/state/{Store}/{Key(w, i)}", UriKind.Relative));
            if (response.StatusCode != System.Net.HttpStatusCode.OK)
            {
                throw new InvalidOperationException($"GET answered {(int)response.StatusCode}");
            }
            await response.Content.ReadAsByteArrayAsync();
        };
        Func<int, long, Task> httpSaveCall = async (w, i) =>
        {
            using var content = new ByteArrayContent(bodies[Index(w, i)]);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await http.PostAsync(new Uri($"/v1.0/state/{Store}", UriKind.Relative), content);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"POST answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync())}");
            }
        };

        // All four operations first, so that the first one measured does not pay for the sidecar's JIT.
        var all = new[] { grpcGetCall, grpcSaveCall, httpGetCall, httpSaveCall };
        await Load.ClosedLoopAsync("state warm-up", Workers, TimeSpan.Zero, durations.WarmUp * 2, (w, i) => all[(int)((w + i) % all.Length)](w, i));

        var grpcGet = await Phase($"state get gRPC ({label}, {Workers} workers)", grpcGetCall);
        var grpcSave = await Phase($"state save gRPC ({label}, {Workers} workers)", grpcSaveCall);
        var httpGet = await Phase($"state get HTTP ({label}, {Workers} workers)", httpGetCall);
        var httpSave = await Phase($"state save HTTP ({label}, {Workers} workers)", httpSaveCall);

        string Measured(Stats s) => $"{Report.Rate(s.Throughput)}/s (p50 {Report.Ms(s.P50)} ms, p99 {Report.Ms(s.P99)} ms)";
        if (type == "state.in-memory")
        {
            report.Rows.Add(Row.AtLeast($"state get gRPC ({label}), throughput", GrpcGetTargetPerSecond, grpcGet.Throughput) with { Measured = Measured(grpcGet) });
        }
        else
        {
            report.Rows.Add(Row.Info($"state get gRPC ({label})", Measured(grpcGet)));
        }
        report.Rows.Add(Row.Info($"state save gRPC ({label})", Measured(grpcSave)));
        report.Rows.Add(Row.Info($"state get HTTP ({label})", Measured(httpGet)));
        report.Rows.Add(Row.Info($"state save HTTP ({label})", Measured(httpSave)));
        if (type == "state.in-memory")
        {
            report.Notes.Add($"State: closed loop, {Workers} concurrent workers over {Keys} keys (~80-byte JSON values), warm-up {durations.WarmUp.TotalSeconds:0.##} s then {durations.State.TotalSeconds:0.##} s per operation; gRPC through the official DaprClient (one channel), HTTP through one HttpClient. Client and sidecar share the machine's cores.");
        }
    }
}
