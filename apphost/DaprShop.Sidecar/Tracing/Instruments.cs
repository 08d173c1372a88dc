using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace DaprShop.Sidecar.Tracing;

/// <summary>A count and a latency recorded together under the same labels, as each of daprd's views pairs them.</summary>
internal sealed record Instruments(Counter<long> Count, Histogram<double> Latency)
{
    // daprd's default latency distribution (ms).
    private static readonly double[] LatencyBuckets =
        [1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25, 30, 40, 50, 65, 80, 100, 130, 160, 200, 250, 300, 400, 500, 650, 800, 1000, 2000, 5000, 10000, 20000, 50000, 100000];

    public bool Enabled => Count.Enabled || Latency.Enabled;

    /// <summary>Counts once under <paramref name="tags"/>, and records the latency when it is known.</summary>
    public void Record(in TagList tags, TimeSpan? elapsed)
    {
        Count.Add(1, tags);
        if (elapsed is { } e)
        {
            Latency.Record(e.TotalMilliseconds, tags);
        }
    }

    /// <summary>
    /// Runs <paramref name="call"/> and, when anything listens, records it under the tags <paramref name="tags"/> makes
    /// of <paramref name="labels"/> and its outcome (true: it returned; false: it threw). The labels travel as state so
    /// that a call nobody measures allocates nothing for them.
    /// </summary>
    public async Task<T> MeasureAsync<T, TLabels>(Func<Task<T>> call, TLabels labels, Func<TLabels, bool, TagList> tags)
    {
        if (!Enabled)
        {
            return await call();
        }
        var started = Stopwatch.GetTimestamp();
        var returned = false;
        try
        {
            var result = await call();
            returned = true;
            return result;
        }
        finally
        {
            Record(tags(labels, returned), Stopwatch.GetElapsedTime(started));
        }
    }

    public static Instruments Pair(Meter meter, string countName, string countDescription, string latencyName, string latencyDescription) =>
        new(meter.CreateCounter<long>(countName, description: countDescription), Histogram(meter, latencyName, latencyDescription));

    // No unit on purpose: Prometheus exporters append the unit to the name, and daprd's names carry none.
    public static Histogram<double> Histogram(Meter meter, string name, string description) =>
        meter.CreateHistogram(name, unit: null, description, tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
}
