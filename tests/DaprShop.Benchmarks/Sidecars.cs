using DaprShop.Testing;

namespace DaprShop.Benchmarks;

public static class Sidecars
{
    /// <summary>Starts the sidecars side by side; if one fails, stops the others and rethrows.</summary>
    public static async Task<SidecarProcess[]> StartAllAsync(params SidecarProcess.Options[] options)
    {
        var starting = options.Select(o => SidecarProcess.StartAsync(o)).ToArray();
        try
        {
            return await Task.WhenAll(starting);
        }
        catch
        {
            foreach (var task in starting)
            {
                if (task.IsCompletedSuccessfully)
                {
                    await task.Result.DisposeAsync();
                }
            }
            throw;
        }
    }
}

/// <summary>CPU time spent in one measured window.</summary>
public sealed record CpuWindow(TimeSpan Sidecars, TimeSpan Client);

/// <summary>
/// CPU time of the sidecar processes and of this process, read from the OS: on a shared, busy machine CPU per
/// operation moves far less than latency does. The sidecars' pids come from their mesh registration files.
/// </summary>
public sealed class CpuMeter
{
    private readonly System.Diagnostics.Process[] _sidecars;
    private readonly System.Diagnostics.Process _self = System.Diagnostics.Process.GetCurrentProcess();
    private TimeSpan _sidecarStart, _selfStart;

    private CpuMeter(System.Diagnostics.Process[] sidecars) => _sidecars = sidecars;

    public CpuWindow Window { get; private set; } = new(TimeSpan.Zero, TimeSpan.Zero);

    public static CpuMeter ForSidecars(TestMesh mesh)
    {
        var pids = new List<int>();
        foreach (var file in Directory.EnumerateFiles(mesh.Directory, "*.json"))
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(file));
            if (doc.RootElement.TryGetProperty("pid", out var pid))
            {
                pids.Add(pid.GetInt32());
            }
        }
        return new CpuMeter(pids.Select(System.Diagnostics.Process.GetProcessById).ToArray());
    }

    /// <summary>CPU of the given processes (e.g. every service and sidecar of a whole shop) against this process's own.</summary>
    public static CpuMeter ForProcesses(IEnumerable<int> pids) => new([.. pids.Select(System.Diagnostics.Process.GetProcessById)]);

    private static TimeSpan Cpu(System.Diagnostics.Process p)
    {
        p.Refresh();
        return p.TotalProcessorTime;
    }

    public void Start()
    {
        _sidecarStart = _sidecars.Aggregate(TimeSpan.Zero, (sum, p) => sum + Cpu(p));
        _selfStart = Cpu(_self);
    }

    public void Stop() => Window = new(_sidecars.Aggregate(TimeSpan.Zero, (sum, p) => sum + Cpu(p)) - _sidecarStart, Cpu(_self) - _selfStart);
}
