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

    public void Record(in TagList tags, TimeSpan elapsed)
    {
        Count.Add(1, tags);
        Latency.Record(elapsed.TotalMilliseconds, tags);
    }

    public static Instruments Pair(Meter meter, string countName, string countDescription, string latencyName, string latencyDescription) =>
        new(meter.CreateCounter<long>(countName, description: countDescription), Histogram(meter, latencyName, latencyDescription));

    // No unit on purpose: Prometheus exporters append the unit to the name, and daprd's names carry none.
    public static Histogram<double> Histogram(Meter meter, string name, string description) =>
        meter.CreateHistogram(name, unit: null, description, tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
}
