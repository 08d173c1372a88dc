using System.Globalization;
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

/// <summary>CPU time spent in one measured window, in total and by process (name → CPU).</summary>
public sealed record CpuWindow(TimeSpan Sidecars, TimeSpan Client)
{
    public IReadOnlyList<(string Name, TimeSpan Cpu)> ByProcess { get; init; } = [];

    /// <summary>How the machine's vCPUs spent the window, all processes together (<see cref="MachineTime"/>).</summary>
    public MachineTime Machine { get; init; } = MachineTime.Unknown;

    /// <summary>The biggest consumers, e.g. "ordering-dapr 31%, ordering 18%, ...", as shares of <see cref="Sidecars"/>.</summary>
    public string Breakdown(int top = 8) => Sidecars <= TimeSpan.Zero ? "" : string.Join(", ",
        ByProcess.OrderByDescending(p => p.Cpu).Take(top).Select(p => $"{p.Name} {p.Cpu / Sidecars:P0}"));
}

/// <summary>
/// The machine's CPU time by kind, summed over its vCPUs, from the first line of /proc/stat. On a virtual machine
/// "steal" is the time a vCPU was ready to run but the host ran something else: the measure of a neighbour's load,
/// which makes the same code on the same machine faster or slower by the hour (docs/benchmarks.md).
/// </summary>
public sealed record MachineTime(long Busy, long Idle, long Steal)
{
    public static readonly MachineTime Unknown = new(0, 0, 0);

    public static MachineTime Read()
    {
        if (!File.Exists("/proc/stat"))
        {
            return Unknown;
        }
        // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest time is counted in user already).
        var f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        return f.Length < 8 ? Unknown : new(f[0] + f[1] + f[2] + f[5] + f[6], f[3] + f[4], f[7]);
    }

    public static MachineTime operator -(MachineTime a, MachineTime b) => new(a.Busy - b.Busy, a.Idle - b.Idle, a.Steal - b.Steal);

    /// <summary>E.g. "busy 91 %, idle 4 %, stolen by the host 5 %", as shares of the vCPUs' time in the window.</summary>
    public override string ToString()
    {
        double total = Busy + Idle + Steal;
        return total <= 0 ? "not known" : $"busy {Busy / total:P0}, idle {Idle / total:P0}, stolen by the host {Steal / total:P0}";
    }
}

/// <summary>
/// CPU time of the measured processes (sidecars, or a whole shop) and of this process, read from the OS: on a shared,
/// busy machine CPU per operation moves far less than latency does.
/// </summary>
public sealed class CpuMeter
{
    private readonly (string Name, System.Diagnostics.Process Process)[] _measured;
    private readonly System.Diagnostics.Process _self = System.Diagnostics.Process.GetCurrentProcess();
    private TimeSpan[] _start = [];
    private TimeSpan _selfStart;
    private MachineTime _machineStart = MachineTime.Unknown;

    private CpuMeter(IEnumerable<(string Name, int Pid)> processes) =>
        _measured = [.. processes.Select(p => (p.Name, System.Diagnostics.Process.GetProcessById(p.Pid)))];

    public CpuWindow Window { get; private set; } = new(TimeSpan.Zero, TimeSpan.Zero);

    /// <summary>The sidecars of a mesh, found by their registration files (app id and pid).</summary>
    public static CpuMeter ForSidecars(TestMesh mesh)
    {
        var sidecars = new List<(string, int)>();
        foreach (var file in Directory.EnumerateFiles(mesh.Directory, "*.json"))
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(file));
            if (doc.RootElement.TryGetProperty("pid", out var pid))
            {
                var appId = doc.RootElement.TryGetProperty("appId", out var id) ? id.GetString() : null;
                sidecars.Add(($"{appId ?? Path.GetFileNameWithoutExtension(file)}-dapr", pid.GetInt32()));
            }
        }
        return new CpuMeter(sidecars);
    }

    /// <summary>CPU of the given processes (e.g. every service and sidecar of a whole shop) against this process's own.</summary>
    public static CpuMeter ForProcesses(IEnumerable<(string Name, int Pid)> processes) => new(processes);

    private static TimeSpan Cpu(System.Diagnostics.Process p)
    {
        p.Refresh();
        return p.TotalProcessorTime;
    }

    private readonly Dictionary<(int Pid, string Tid), long> _jitTicks = [];

    /// <summary>
    /// CPU of the tiered-compilation threads (the runtime re-compiling hot code) of the measured processes and of this
    /// one (the load generator, and the benchmark's own apps) since the last call; the first call returns everything
    /// since each process started. Read from /proc; zero where there is none.
    /// </summary>
    public TimeSpan JitCpuSinceLastCall()
    {
        long ticks = 0;
        foreach (var process in _measured.Select(m => m.Process).Append(_self))
        {
            var tasks = $"/proc/{process.Id}/task";
            if (!Directory.Exists(tasks))
            {
                continue;
            }
            foreach (var task in Directory.EnumerateDirectories(tasks))
            {
                try
                {
                    if (!File.ReadAllText(Path.Combine(task, "comm")).StartsWith(".NET Tiered", StringComparison.Ordinal))
                    {
                        continue;
                    }
                    // utime and stime are the 14th and 15th fields; counting starts after the parenthesised name.
                    var stat = File.ReadAllText(Path.Combine(task, "stat"));
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    var now = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                    var key = (process.Id, Path.GetFileName(task));
                    ticks += now - _jitTicks.GetValueOrDefault(key);
                    _jitTicks[key] = now;
                }
                catch (IOException)
                {
                    // The thread ended (the runtime stops an idle compilation thread) between listing and reading.
                }
            }
        }
        return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ
    }

    /// <summary>The CPU used so far by the measured processes together and by this process.</summary>
    public (TimeSpan Sidecars, TimeSpan Client) Read() =>
        (_measured.Aggregate(TimeSpan.Zero, (sum, m) => sum + Cpu(m.Process)), Cpu(_self));

    public void Start()
    {
        _start = [.. _measured.Select(m => Cpu(m.Process))];
        _selfStart = Cpu(_self);
        _machineStart = MachineTime.Read();
    }

    public void Stop()
    {
        var byProcess = _measured.Select((m, i) => (m.Name, Cpu(m.Process) - _start[i])).ToList();
        Window = new CpuWindow(byProcess.Aggregate(TimeSpan.Zero, (sum, p) => sum + p.Item2), Cpu(_self) - _selfStart) { ByProcess = byProcess, Machine = MachineTime.Read() - _machineStart };
    }
}
