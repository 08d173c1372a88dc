using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace DaprShop.Benchmarks;

/// <summary>A line of the summary table: what the issue asks for and what this run got.</summary>
public sealed record Row(string Benchmark, string Target, string Measured, string Met)
{
    public static Row Info(string benchmark, string measured) => new(benchmark, "—", measured, "—");

    /// <summary>A latency target; a negative difference (sidecar faster than direct) can only be noise, and says so.</summary>
    public static Row AtMost(string benchmark, double limitMs, double measuredMs) =>
        new(benchmark, $"≤ {Report.Ms(limitMs)} ms", $"{Report.Ms(measuredMs)} ms",
            double.IsNaN(measuredMs) ? "no" : measuredMs < 0 ? "n/a (noise: rerun)" : measuredMs <= limitMs ? "yes" : "no");

    public static Row AtLeast(string benchmark, double limitPerSecond, double measuredPerSecond) =>
        new(benchmark, $"≥ {limitPerSecond.ToString("N0", CultureInfo.InvariantCulture)}/s", $"{Report.Rate(measuredPerSecond)}/s", double.IsNaN(measuredPerSecond) ? "no" : measuredPerSecond >= limitPerSecond ? "yes" : "no");

    public static Row Unavailable(string benchmark, string target) => new(benchmark, target, "not available", "—");
}

/// <summary>
/// Everything one run measured for one section of the benchmarks file (<c>sidecar</c>: the runtime's building blocks;
/// <c>shop</c>: the whole shop), and its rendering as markdown.
/// </summary>
public sealed class Report(string name = "sidecar", string title = "Sidecar")
{
    public string Name { get; } = name;
    public string Title { get; } = title;
    public string StartMarker => $"<!-- bench:{Name}:start -->";
    public string EndMarker => $"<!-- bench:{Name}:end -->";

    /// <summary>Whose CPU the measurement table's CPU column counts: the sidecars, or every process of a shop.</summary>
    public string CpuOf { get; init; } = "sidecar";

    public List<Row> Rows { get; } = [];
    public List<Stats> Measurements { get; } = [];
    public List<string> Notes { get; } = [];

    public static string Ms(double ms) => double.IsNaN(ms) ? "—" : ms.ToString(Math.Abs(ms) < 10 ? "0.000" : "0.0", CultureInfo.InvariantCulture);

    public static string Us(double us) => double.IsNaN(us) ? "—" : us.ToString("0", CultureInfo.InvariantCulture);

    public static string Rate(double perSecond) => double.IsNaN(perSecond) ? "—" : perSecond.ToString("N0", CultureInfo.InvariantCulture);

    public void Add(Stats stats)
    {
        Measurements.Add(stats);
        Console.WriteLine($"  {stats.Name}: {Rate(stats.Throughput)}/s, p50 {Ms(stats.P50)} ms, p90 {Ms(stats.P90)} ms, p99 {Ms(stats.P99)} ms, max {Ms(stats.Max)} ms ({stats.Count} ops, {stats.Errors} errors; CPU/op: {CpuOf} {Us(stats.SidecarCpuUs)} µs, client {Us(stats.ClientCpuUs)} µs)");
    }

    public string SummaryTable()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| benchmark | target | measured | met |");
        sb.AppendLine("|---|---|---|---|");
        foreach (var r in Rows)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {r.Benchmark} | {r.Target} | {r.Measured} | {r.Met} |");
        }
        return sb.ToString();
    }

    public string MeasurementTable()
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"| measurement | ops | errors | throughput (/s) | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | {CpuOf} CPU/op (µs) | client CPU/op (µs) |");
        sb.AppendLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (var s in Measurements)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {s.Name} | {s.Count} | {s.Errors} | {Rate(s.Throughput)} | {Ms(s.P50)} | {Ms(s.P90)} | {Ms(s.P99)} | {Ms(s.Max)} | {Us(s.SidecarCpuUs)} | {Us(s.ClientCpuUs)} |");
        }
        return sb.ToString();
    }

    public static string Machine()
    {
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        var cpu = "";
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "";
            }
        }
        catch (IOException)
        {
        }
        return string.Create(CultureInfo.InvariantCulture,
            $"{Environment.ProcessorCount} cores{(cpu.Length > 0 ? $" ({cpu})" : "")}, {memory:0.0} GiB memory, {RuntimeInformation.OSDescription} ({RuntimeInformation.OSArchitecture}), {RuntimeInformation.FrameworkDescription}");
    }

    public string Section(string mode)
    {
        var sb = new StringBuilder();
        sb.AppendLine(StartMarker);
        sb.AppendLine(CultureInfo.InvariantCulture, $"## {Title}");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"- Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- Machine: {Machine()}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- Run: `dotnet run -c Release --project tests/DaprShop.Benchmarks -- {mode}` (sidecar built in {DaprShop.Testing.Repo.Configuration})");
        sb.AppendLine();
        sb.Append(SummaryTable());
        sb.AppendLine();
        sb.Append(MeasurementTable());
        if (Notes.Count > 0)
        {
            sb.AppendLine();
            foreach (var note in Notes)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
            }
        }
        sb.AppendLine(EndMarker);
        return sb.ToString();
    }

    /// <summary>
    /// Replaces this report's section of <paramref name="path"/> (between its markers), keeping every other section.
    /// A relative path is taken from the repository root (<c>dotnet run</c> may start in the project's folder).
    /// </summary>
    public void WriteSection(string path, string section)
    {
        var full = Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(DaprShop.Testing.Repo.Root, path));
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string text;
        if (!File.Exists(full))
        {
            text = "# DaprShop benchmarks\n\nEach section is written by its own benchmark program between its `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->` markers; the rest of the file is kept as it is.\n\n" + section;
        }
        else
        {
            var existing = File.ReadAllText(full).ReplaceLineEndings("\n");
            var start = existing.IndexOf(StartMarker, StringComparison.Ordinal);
            var end = existing.IndexOf(EndMarker, StringComparison.Ordinal);
            if (start >= 0 && end > start)
            {
                var after = end + EndMarker.Length;
                if (after < existing.Length && existing[after] == '\n')
                {
                    after++;
                }
                text = existing[..start] + section + existing[after..];
            }
            else
            {
                text = existing.TrimEnd('\n') + "\n\n" + section;
            }
        }
        File.WriteAllText(full, text);
        Console.WriteLine($"Wrote the {Name} section of {full}");
    }
}
