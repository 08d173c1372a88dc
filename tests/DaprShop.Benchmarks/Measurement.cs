using System.Diagnostics;

namespace DaprShop.Benchmarks;

/// <summary>How long each phase runs: <c>--quick</c> shortens all of them.</summary>
public sealed record Durations(TimeSpan WarmUp, TimeSpan Invoke, TimeSpan State, TimeSpan PubSub)
{
    public static Durations Full { get; } = new(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10));
    public static Durations Quick { get; } = new(TimeSpan.FromSeconds(0.75), TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(3));
}

/// <summary>Latencies of one measured phase, recorded without locks from many threads.</summary>
public sealed class LatencyRecorder
{
    private long[] _ticks;
    private int _count;
    private long _errors;

    public LatencyRecorder(int capacity) => _ticks = new long[Math.Max(capacity, 1024)];

    public bool Recording { get; set; } = true;

    public long Errors => Interlocked.Read(ref _errors);

    public void Record(long elapsedTicks)
    {
        if (!Recording)
        {
            return;
        }
        var i = Interlocked.Increment(ref _count) - 1;
        var ticks = _ticks;
        if (i < ticks.Length)
        {
            ticks[i] = elapsedTicks;
        }
    }

    public void Error()
    {
        if (Recording)
        {
            Interlocked.Increment(ref _errors);
        }
    }

    public void Reset()
    {
        _count = 0;
        Interlocked.Exchange(ref _errors, 0);
    }

    public Stats Summarize(string name, TimeSpan elapsed)
    {
        var n = Math.Min(Volatile.Read(ref _count), _ticks.Length);
        var sorted = _ticks.AsSpan(0, n).ToArray();
        Array.Sort(sorted);
        return Stats.From(name, sorted, elapsed, Errors);
    }
}

/// <summary>Percentiles (ms) and throughput of one phase.</summary>
public sealed record Stats(string Name, long Count, long Errors, double Throughput, double P50, double P90, double P99, double Max)
{
    /// <summary>CPU time per operation (µs) of the sidecar processes, over the measured window.</summary>
    public double SidecarCpuUs { get; init; } = double.NaN;

    /// <summary>CPU time per operation (µs) of the benchmark process (load generator, client SDK and app).</summary>
    public double ClientCpuUs { get; init; } = double.NaN;

    public Stats WithCpu(CpuWindow cpu) => Count == 0 ? this : this with
    {
        SidecarCpuUs = cpu.Sidecars.TotalMicroseconds / Count,
        ClientCpuUs = cpu.Client.TotalMicroseconds / Count,
    };

    public static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    public static Stats From(string name, long[] sortedTicks, TimeSpan elapsed, long errors)
    {
        double At(double q) => sortedTicks.Length == 0 ? double.NaN : Ms(sortedTicks[Math.Clamp((int)Math.Ceiling(q * sortedTicks.Length) - 1, 0, sortedTicks.Length - 1)]);
        return new Stats(name, sortedTicks.Length, errors, sortedTicks.Length / elapsed.TotalSeconds,
            At(0.50), At(0.90), At(0.99), sortedTicks.Length == 0 ? double.NaN : Ms(sortedTicks[^1]));
    }

    public static Stats Unavailable(string name) => new(name, 0, 0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
}

/// <summary>
/// Load generators. Open loop: requests start on a fixed schedule whether or not earlier ones have answered (as wrk2
/// or a real client population would), so a slow server meets queued requests rather than a politely waiting client.
/// Closed loop: a fixed number of workers, each sending its next request when the previous one answers (throughput).
/// </summary>
public static class Load
{
    /// <summary>The tiered JIT's share of the machine under which processes count as warm.</summary>
    public const double QuietJit = 0.02;

    /// <summary>
    /// Runs <paramref name="round"/> for <paramref name="first"/>, then in 10 s rounds until the tiered JIT of the
    /// measured processes and of this one takes less than <see cref="QuietJit"/> of the machine, at most
    /// <paramref name="limit"/> in all. Fresh .NET processes re-compile their hot paths for tens of seconds (minutes on
    /// a slow machine), and code still being compiled runs several times slower: measured before it settles, the first
    /// numbers are the JIT's. Returns a sentence for the report.
    /// </summary>
    public static async Task<string> WarmUpUntilJitQuietAsync(string what, TimeSpan first, TimeSpan limit, CpuMeter cpu, Func<TimeSpan, Task> round)
    {
        var started = Stopwatch.StartNew();
        cpu.JitCpuSinceLastCall();
        var length = first;
        double share;
        while (true)
        {
            var from = Stopwatch.GetTimestamp();
            await round(length);
            share = cpu.JitCpuSinceLastCall() / (Stopwatch.GetElapsedTime(from) * Environment.ProcessorCount);
            if (share < QuietJit || started.Elapsed >= limit)
            {
                break;
            }
            length = TimeSpan.FromSeconds(10);
        }
        var sentence = $"{what}: warmed up for {started.Elapsed.TotalSeconds:0} s; the tiered JIT took {share:P1} of the machine in the last round" +
            (share < QuietJit ? "." : $" (still above {QuietJit:P0} when the warm-up's limit came: the numbers include compilation).");
        Console.WriteLine($"  {sentence}");
        return sentence;
    }

    /// <summary>
    /// Sends <paramref name="rate"/> requests per second for warm-up plus <paramref name="duration"/>, recording
    /// only after the warm-up. Latency is measured from each request's actual start; how late the scheduler
    /// started requests (a loaded machine) is reported separately.
    /// </summary>
    public static async Task<(Stats Stats, Stats Lag)> OpenLoopAsync(string name, int rate, TimeSpan warmUp, TimeSpan duration, Func<CancellationToken, Task> call, CpuMeter? cpu = null)
    {
        var (stats, lag) = await InterleavedOpenLoopAsync([name], rate, warmUp, duration, duration, (_, ct) => call(ct), cpu);
        return (stats[0], lag);
    }

    /// <summary>
    /// One open loop at <paramref name="rate"/> requests per second whose requests take the paths of
    /// <paramref name="names"/> in turn, <paramref name="slice"/> each, until every path has had
    /// <paramref name="perPath"/> after the warm-up. Paths measured one after another are measured on a different
    /// machine each when its speed moves (a host stall, a noisy neighbour): interleaved, every path meets the same
    /// moments, so differences between them are the paths' own. Each path's latencies and CPU (sampled at every slice
    /// boundary) are its own; the scheduler's lag is for the whole loop.
    /// </summary>
    public static async Task<(Stats[] Stats, Stats Lag)> InterleavedOpenLoopAsync(
        IReadOnlyList<string> names, int rate, TimeSpan warmUp, TimeSpan perPath, TimeSpan slice, Func<int, CancellationToken, Task> call, CpuMeter? cpu = null)
    {
        var paths = names.Count;
        var expected = (int)(rate * perPath.TotalSeconds * 1.2) + 1024;
        var latencies = names.Select(_ => new LatencyRecorder(expected) { Recording = false }).ToArray();
        var lags = new LatencyRecorder(expected * paths) { Recording = false };
        var cpuByPath = new (TimeSpan Sidecars, TimeSpan Client)[paths];
        using var stop = new CancellationTokenSource();
        var token = stop.Token;
        var inFlight = 0L;
        var interval = Stopwatch.Frequency / (double)rate;
        var sliceTicks = (long)(slice.TotalSeconds * Stopwatch.Frequency);
        var measuredFrom = 0L;
        var total = warmUp + perPath * paths;

        void Fire(long scheduledAt, int path)
        {
            Interlocked.Increment(ref inFlight);
            _ = Task.Run(async () =>
            {
                var start = Stopwatch.GetTimestamp();
                lags.Record(start - scheduledAt);
                try
                {
                    await call(path, token);
                    latencies[path].Record(Stopwatch.GetTimestamp() - start);
                }
                catch (Exception) when (!token.IsCancellationRequested)
                {
                    latencies[path].Error();
                }
                catch (OperationCanceledException)
                {
                }
                finally
                {
                    Interlocked.Decrement(ref inFlight);
                }
            });
        }

        // The CPU used between two slice boundaries goes to the path of that slice: read off the scheduler thread.
        var sampling = cpu is not null && paths > 1;
        using var samples = new System.Collections.Concurrent.BlockingCollection<int>();
        var sampler = Task.Run(() =>
        {
            var last = cpu?.Read();
            foreach (var path in samples.GetConsumingEnumerable())
            {
                var now = cpu!.Read();
                if (path >= 0)
                {
                    cpuByPath[path] = (cpuByPath[path].Sidecars + now.Sidecars - last!.Value.Sidecars, cpuByPath[path].Client + now.Client - last.Value.Client);
                }
                last = now;
            }
        });

        var scheduler = new Thread(() =>
        {
            var begin = Stopwatch.GetTimestamp();
            var end = begin + (long)(total.TotalSeconds * Stopwatch.Frequency);
            var warmEnd = begin + (long)(warmUp.TotalSeconds * Stopwatch.Frequency);
            long sent = 0;
            var warm = true;
            var currentSlice = long.MinValue;
            while (true)
            {
                var now = Stopwatch.GetTimestamp();
                if (now >= end)
                {
                    break;
                }
                if (warm && now >= warmEnd)
                {
                    warm = false;
                    cpu?.Start();
                    foreach (var recorder in latencies)
                    {
                        recorder.Recording = true;
                    }
                    lags.Recording = true;
                    measuredFrom = now;
                }
                // Every request whose time has come, each stamped with its scheduled time and sent on its slice's path.
                while (true)
                {
                    var due = begin + (long)(sent * interval);
                    if (due > now)
                    {
                        break;
                    }
                    // Slices count from the end of the warm-up (negative before it), so the measured time splits evenly.
                    var sliceIndex = (long)Math.Floor((due - warmEnd) / (double)sliceTicks);
                    if (sliceIndex != currentSlice && sampling)
                    {
                        // The boundary closes the previous slice (if it was measured) and opens this one.
                        samples.Add(currentSlice >= 0 ? (int)(currentSlice % paths) : -1);
                    }
                    currentSlice = sliceIndex;
                    Fire(due, (int)(((sliceIndex % paths) + paths) % paths));
                    sent++;
                }
                var next = begin + (long)(sent * interval);
                var wait = Stats.Ms(next - Stopwatch.GetTimestamp());
                // Sleep(1) oversleeps by ~0.1 ms on Linux; the lag is reported, and no core is burnt spinning.
                if (wait > 0.2)
                {
                    Thread.Sleep(1);
                }
                else if (wait > 0)
                {
                    Thread.Yield();
                }
            }
            if (sampling && currentSlice >= 0)
            {
                samples.Add((int)(currentSlice % paths));
            }
            samples.CompleteAdding();
        })
        { IsBackground = true, Priority = ThreadPriority.AboveNormal, Name = "open-loop scheduler" };
        scheduler.Start();
        await Task.Run(scheduler.Join);
        await sampler;
        cpu?.Stop();
        foreach (var recorder in latencies)
        {
            recorder.Recording = false;
        }
        lags.Recording = false;
        var elapsed = Stopwatch.GetElapsedTime(measuredFrom);
        // Let the stragglers answer, then cancel what is left.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (Interlocked.Read(ref inFlight) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
        await stop.CancelAsync();
        // Each path had its share of the measured time.
        var stats = names.Select((name, i) =>
        {
            var s = latencies[i].Summarize(name, elapsed / paths);
            return cpu is null ? s : s.WithCpu(paths == 1 ? cpu.Window : new CpuWindow(cpuByPath[i].Sidecars, cpuByPath[i].Client));
        }).ToArray();
        return (stats, lags.Summarize(string.Join(" / ", names) + " (scheduler lag)", elapsed));
    }

    /// <summary><paramref name="workers"/> concurrent loops calling <paramref name="call"/> (given the worker and iteration) for warm-up plus duration.</summary>
    public static async Task<Stats> ClosedLoopAsync(string name, int workers, TimeSpan warmUp, TimeSpan duration, Func<int, long, Task> call, CpuMeter? cpu = null)
    {
        var latencies = new LatencyRecorder(1 << 21) { Recording = false };
        var running = true;
        var tasks = Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            long i = 0;
            while (Volatile.Read(ref running))
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    await call(w, i++);
                    latencies.Record(Stopwatch.GetTimestamp() - start);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    latencies.Error();
                    if (latencies.Errors == 1)
                    {
                        Console.Error.WriteLine($"  {name}: first error: {ex.GetType().Name}: {ex.Message}");
                    }
                }
            }
        })).ToArray();
        await Task.Delay(warmUp);
        latencies.Reset();
        cpu?.Start();
        latencies.Recording = true;
        var from = Stopwatch.GetTimestamp();
        await Task.Delay(duration);
        latencies.Recording = false;
        var elapsed = Stopwatch.GetElapsedTime(from);
        cpu?.Stop();
        Volatile.Write(ref running, false);
        await Task.WhenAll(tasks);
        var stats = latencies.Summarize(name, elapsed);
        return cpu is null ? stats : stats.WithCpu(cpu.Window);
    }
}
