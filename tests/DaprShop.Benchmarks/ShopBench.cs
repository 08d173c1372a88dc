using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using DaprShop.Contracts;
using DaprShop.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DaprShop.Benchmarks;

/// <summary>
/// The whole shop (<see cref="WholeShop"/>: six services, each with its own sidecar, on the embedded default profile)
/// under a client that calls it through a sidecar with Dapr service invocation, as the gateway does.
/// </summary>
public static class ShopBench
{
    public const double CatalogTargetPerSecond = 2_000;
    public const double CatalogP99TargetMs = 50;
    public const double CheckoutTargetPerSecond = 50;
    public const double CheckoutP99TargetMs = 2_000;

    private static readonly string[] SearchTerms =
        ["kettle", "headphones", "oak chair", "camera", "running shoes", "nordic", "pro laptop", "wool", "cookbook", "planter", "serum", "robot kit"];

    private static readonly string[] Categories =
        ["Headphones", "Laptops", "Smartphones", "Cameras", "Kitchen", "Furniture", "Sports", "Books", "Toys", "Garden", "Clothing", "Beauty"];

    /// <summary>
    /// Thirteen fresh processes keep their tiered JIT busy for tens of seconds (instrumented code, then re-compiled hot
    /// paths): measured earlier, that compilation is most of the shop's CPU. So the shop runs at least this long before anything counts.
    /// </summary>
    private static TimeSpan WarmUp(Durations durations) => durations.Invoke * 3;

    private static Task<string> WarmUpAsync(string what, Durations durations, CpuMeter cpu, Func<TimeSpan, Task> round) =>
        Load.WarmUpUntilJitQuietAsync(what, WarmUp(durations), WarmUp(durations) * 6, cpu, round);

    /// <summary>Every process of the shop: its services and their sidecars, and the gateway's sidecar.</summary>
    private static CpuMeter ShopCpu(WholeShop shop) => CpuMeter.ForProcesses(
        WholeShop.Services.SelectMany(s => new[] { (s.AppId, shop[s.AppId].ServicePid!.Value), ($"{s.AppId}-dapr", shop[s.AppId].Sidecar.Pid) })
            .Append(($"{AppIds.Gateway}-dapr", shop.Gateway.Pid)));

    private static Task<WholeShop> StartShopAsync()
    {
        Console.WriteLine("  starting the shop (six services, seven sidecars)...");
        // Warning: the services' request logs would cost CPU that a real deployment spends on a log pipeline elsewhere.
        return WholeShop.StartAsync(new WholeShop.Settings { LogLevel = "Warning", Environment = "Production" });
    }

    /// <summary>Product reads, category pages and searches through two sidecars (the client's, the catalog's) with a warm cache.</summary>
    public static async Task CatalogAsync(Durations durations, Report report)
    {
        var started = Stopwatch.StartNew();
        await using var shop = await StartShopAsync();
        Console.WriteLine($"  shop started in {started.Elapsed.TotalSeconds:0.0} s");
        // At most 64 connections, as a client's pool would have: without a cap an open loop that outruns the machine
        // opens one per waiting request, and the generator spends its CPU on connecting instead of sending.
        using var handler = new SocketsHttpHandler
        {
            UseCookies = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5), MaxConnectionsPerServer = 64,
        };
        using var http = new HttpClient(handler) { BaseAddress = shop.InvokeAddress(AppIds.Catalog), Timeout = TimeSpan.FromSeconds(30) };

        var products = Enumerable.Range(1, 100).Select(n => $"api/v1/catalog/products/p-{n:0000}").ToArray();
        var pages = Categories.SelectMany(c => Enumerable.Range(1, 3).Select(p => $"api/v1/catalog/products?category={c}&page={p}")).ToArray();
        var searches = SearchTerms.Select(t => $"api/v1/catalog/products?q={Uri.EscapeDataString(t)}").ToArray();
        var mixed = products.Concat(pages).Concat(searches).ToArray();

        async Task Get(string uri, CancellationToken ct)
        {
            using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseContentRead, ct);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"GET {uri} answered {(int)response.StatusCode}");
            }
        }

        // Every read once (the cache fills), then all of them hard for a while (the JIT of thirteen processes).
        foreach (var uri in mixed)
        {
            await Get(uri, CancellationToken.None);
        }
        var cpu = ShopCpu(shop);
        report.Notes.Add(await WarmUpAsync("Catalog", durations, cpu, length =>
            Load.ClosedLoopAsync("catalog warm-up", 32, TimeSpan.Zero, length, (w, i) => Get(mixed[(int)((w * 7919 + i) % mixed.Length)], CancellationToken.None))));

        foreach (var (label, uris) in new[] { ("product by id", products), ("category page", pages), ("search", searches) })
        {
            var stats = await Load.ClosedLoopAsync($"catalog {label} (32 clients)", 32, durations.WarmUp, durations.State * 2,
                (w, i) => Get(uris[(int)((w * 7919 + i) % uris.Length)], CancellationToken.None), cpu);
            report.Add(stats);
            report.Rows.Add(Row.AtLeast($"catalog {label}, reads/s (32 clients)", CatalogTargetPerSecond, stats.Throughput) with
            {
                Measured = $"{Report.Rate(stats.Throughput)}/s (p50 {Report.Ms(stats.P50)} ms, p99 {Report.Ms(stats.P99)} ms)",
            });
        }

        var rate = (int)CatalogTargetPerSecond;
        var next = 0L;
        var (mix, lag) = await Load.OpenLoopAsync($"catalog mixed reads @ {rate}/s", rate, durations.WarmUp, durations.Invoke,
            ct => Get(mixed[(int)(Interlocked.Increment(ref next) % mixed.Length)], ct), cpu);
        report.Add(mix);
        report.Rows.Add(Row.AtMost($"catalog mixed reads @ {rate}/s, p99", CatalogP99TargetMs, mix.P99));
        if (mix.Errors > 0 || mix.Throughput < rate * 0.95)
        {
            report.Notes.Add($"catalog mixed reads @ {rate}/s: {mix.Errors} errors, {Report.Rate(mix.Throughput)}/s answered: the shop did not keep up with the rate.");
        }
        if (lag.P99 > 1)
        {
            report.Notes.Add($"catalog mixed reads @ {rate}/s: the load generator started requests late (scheduler lag p99 {Report.Ms(lag.P99)} ms): the machine was busy.");
        }
        report.Notes.Add(
            $"Catalog: the seeded 500 products; the client calls `/v1.0/invoke/catalog/method/...` on a sidecar of its own, which forwards to the catalog's sidecar and app " +
            $"(reads served from the catalog replica's near cache, else its `cache` component). After a warm-up over every read (at least {WarmUp(durations).TotalSeconds:0.##} s, until the JIT is quiet), closed loops of 32 clients over 100 product ids, 36 category pages and {SearchTerms.Length} searches " +
            $"({durations.State.TotalSeconds * 2:0.##} s each), then an open loop at {rate}/s over all of them ({durations.Invoke.TotalSeconds:0.##} s). " +
            "Everything, load generator included, shares the machine's cores; the CPU column counts all thirteen processes of the shop.");
    }

    /// <summary>
    /// Shoppers that each fill a basket, check out with the approving card and wait for the order to be confirmed, then
    /// start again as a new shopper: checkouts completed per second, and the time from the checkout request to the
    /// order's <c>OrderConfirmed</c> event reaching a subscriber.
    /// </summary>
    public static async Task CheckoutAsync(Durations durations, Report report)
    {
        var started = Stopwatch.StartNew();
        await using var shop = await StartShopAsync();
        Console.WriteLine($"  shop started in {started.Elapsed.TotalSeconds:0.0} s");

        // Orders finish in events, not in polls: polling 50 orders would load the shop more than the checkouts do.
        var outcomes = new ConcurrentDictionary<string, TaskCompletionSource<(bool Confirmed, long At, string? Reason)>>();
        TaskCompletionSource<(bool, long, string?)> Outcome(string orderId) =>
            outcomes.GetOrAdd(orderId, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
        await using var observer = await TestApp.StartAsync(app =>
        {
            app.MapGet("/dapr/subscribe", () => Results.Json(new[] { Topics.OrderConfirmed, Topics.OrderFailed }
                .Select(t => new { pubsubname = Components.PubSub, topic = t, route = "/events/" + t })));
            app.MapPost("/events/{topic}", async (string topic, HttpRequest request) =>
            {
                var at = Stopwatch.GetTimestamp();
                using var cloudEvent = await JsonDocument.ParseAsync(request.Body);
                var data = cloudEvent.RootElement.GetProperty("data");
                var reason = data.TryGetProperty("reason", out var r) ? r.GetString() : null;
                Outcome(data.GetProperty("orderId").GetString()!).TrySetResult((topic == Topics.OrderConfirmed, at, reason));
                return Results.Json(new { status = "SUCCESS" });
            });
        });
        await using var observerSidecar = await SidecarProcess.StartAsync(new()
        {
            AppId = "bench-observer",
            AppPort = observer.Port,
            ResourcesPaths = [shop.ResourcesDirectory],
            MeshDirectory = shop.MeshDirectory,
        });

        using var handler = new SocketsHttpHandler { UseCookies = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) };
        using var client = shop.CreateShopClient(handler);
        // Twenty products with stock for any run, so that shoppers meet each other on products as in a shop, not on one SKU.
        var products = Enumerable.Range(1, 20).Select(n => $"p-{n:0000}").ToArray();
        foreach (var product in products)
        {
            await client.RestockAsync(product, 10_000);
        }

        var run = Guid.NewGuid().ToString("N")[..6];
        var completed = new ConcurrentQueue<(string OrderId, DateTime SubmittedUtc)>();
        async Task<long> CheckoutOnce(string shopperId)
        {
            var random = Random.Shared;
            await client.AddToBasketAsync(shopperId, products[random.Next(products.Length)], 1 + random.Next(2));
            await client.AddToBasketAsync(shopperId, products[random.Next(products.Length)], 1);
            var outcome = Outcome(shopperId);
            var submitted = Stopwatch.GetTimestamp();
            var submittedUtc = DateTime.UtcNow;
            var orderId = await client.PlaceOrderAsync(shopperId, shopperId);
            var (confirmed, at, reason) = await outcome.Task.WaitAsync(TimeSpan.FromSeconds(60));
            outcomes.TryRemove(orderId, out _);
            if (!confirmed)
            {
                throw new InvalidOperationException($"order {orderId} failed: {reason}");
            }
            completed.Enqueue((orderId, submittedUtc));
            return at - submitted;
        }

        // A checkout takes seconds, so the windows are longer than the other phases', and each level first runs until
        // every shopper has completed one (the first level also for the shop's warm-up) before anything counts.
        var window = durations.Invoke * 3;
        var cpu = ShopCpu(shop);
        // Warm-up at the higher level: thirteen processes reach their optimised code sooner under full load, and the
        // first measured level then does not pay for it.
        var rounds = 0;
        report.Notes.Add(await WarmUpAsync("Checkout", durations, cpu, length =>
        {
            // A new shopper id each time: the id is also the checkout's Idempotency-Key.
            var r = ++rounds;
            return ShoppersAsync("checkout warm-up, 50 shoppers", 50, length, TimeSpan.FromSeconds(1), (w, i) => CheckoutOnce($"w-{run}-{r}-{w}-{i}"), cpu: null);
        }));
        // The warm-up leaves work queued behind it (mails to send, events to deliver): it drains before anything is measured.
        await Task.Delay(durations.Invoke);
        foreach (var shoppers in new[] { 10, 50 })
        {
            completed.Clear();
            var stats = await ShoppersAsync($"checkout submit → confirmed, {shoppers} shoppers", shoppers, TimeSpan.Zero, window,
                (w, i) => CheckoutOnce($"s{shoppers}-{run}-{w}-{i}"), cpu);
            report.Add(stats);
            report.Notes.Add($"{stats.Name}: CPU by process: {cpu.Window.Breakdown()}; the machine: {cpu.Window.Machine}.");
            report.Notes.Add($"{stats.Name}: {await CheckoutTimeline.DescribeAsync(shop, [.. completed.TakeLast(200)])}");
            report.Rows.Add(Row.AtLeast($"checkouts completed/s, {shoppers} shoppers", CheckoutTargetPerSecond, stats.Throughput));
            report.Rows.Add(Row.AtMost($"checkout latency p99, {shoppers} shoppers", CheckoutP99TargetMs, stats.P99) with
            {
                Measured = $"{Report.Ms(stats.P99)} ms (p50 {Report.Ms(stats.P50)} ms)",
            });
        }
        report.Notes.Add(
            "Checkout: each shopper adds two of 20 products (restocked for the run) to a new basket, checks out with the approving test card " +
            "(`POST /api/v1/orders` with an Idempotency-Key) and waits for the order's `ordering.order-confirmed` event at a subscriber; latency is from " +
            "the checkout request to that event (the saga: price and record the order, reserve, authorize, capture, confirm the stock and record and publish; the basket service empties the basket when it hears the event). " +
            $"The payment provider answers in {WholeShop.Defaults[AppIds.Payment]["Payment__LatencyMs"]} ms. Services run in the Production environment and log at Warning. " +
            $"After a warm-up at 50 shoppers (at least {WarmUp(durations).TotalSeconds:0.##} s, until the JIT is quiet) and {durations.Invoke.TotalSeconds:0.##} s for its queued work to drain, each level runs until every shopper has completed a checkout, then {window.TotalSeconds:0.##} s are measured; " +
            "a checkout counts when it completes inside the window.");
    }

    /// <summary>
    /// <paramref name="shoppers"/> closed loops; each iteration returns its own latency (ticks) so that the untimed parts
    /// (filling the basket) stay out of it. Measuring starts once every shopper has completed an iteration and at least
    /// <paramref name="warmUp"/> has passed (at most a minute later); completions inside the measured window count.
    /// </summary>
    private static async Task<Stats> ShoppersAsync(string name, int shoppers, TimeSpan warmUp, TimeSpan window, Func<int, long, Task<long>> shop, CpuMeter? cpu)
    {
        var latencies = new LatencyRecorder(1 << 16) { Recording = false };
        var running = true;
        var reported = 0;
        var completed = 0L;
        var loops = Enumerable.Range(0, shoppers).Select(w => Task.Run(async () =>
        {
            long i = 0;
            while (Volatile.Read(ref running))
            {
                try
                {
                    latencies.Record(await shop(w, i++));
                    Interlocked.Increment(ref completed);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    latencies.Error();
                    if (Interlocked.Exchange(ref reported, 1) == 0)
                    {
                        Console.Error.WriteLine($"  {name}: first error: {ex.GetType().Name}: {ex.Message.Split('\n')[0]}");
                    }
                }
            }
        })).ToArray();
        var ramp = Stopwatch.StartNew();
        while ((Interlocked.Read(ref completed) < shoppers || ramp.Elapsed < warmUp) && ramp.Elapsed < warmUp + TimeSpan.FromMinutes(1))
        {
            await Task.Delay(50);
        }
        Console.WriteLine($"  {name}: {Interlocked.Read(ref completed)} checkouts before measuring, in {ramp.Elapsed.TotalSeconds:0.0} s");
        latencies.Reset();
        cpu?.Start();
        latencies.Recording = true;
        var from = Stopwatch.GetTimestamp();
        await Task.Delay(window);
        latencies.Recording = false;
        var elapsed = Stopwatch.GetElapsedTime(from);
        cpu?.Stop();
        Volatile.Write(ref running, false);
        await Task.WhenAll(loops);
        var stats = latencies.Summarize(name, elapsed);
        return cpu is null ? stats : stats.WithCpu(cpu.Window);
    }
}
