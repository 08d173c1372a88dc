using System.Globalization;

namespace DaprShop.Testing;

/// <summary>
/// What a running .NET process's memory map says about its JIT: with W^X (write-xor-execute) on, the runtime maps
/// its executable memory twice through a memfd named <c>doublemapper</c>; with it off, it does not. Linux only.
/// </summary>
public static class CodeMappings
{
    /// <summary>The environment variable that turns W^X on (1) or off (0), over any runtimeconfig.</summary>
    public const string WriteXorExecuteVariable = "DOTNET_EnableWriteXorExecute";

    public static bool WriteXorExecuteIsOn(int pid) =>
        File.ReadLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/maps").Any(line => line.Contains("doublemapper", StringComparison.Ordinal));

    /// <summary>The process's arguments joined by spaces; empty once it has ended.</summary>
    public static string CommandLineOf(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>Every living process below <paramref name="pid"/> (children, their children...), with its command line.</summary>
    public static IReadOnlyList<(int Pid, string CommandLine)> Descendants(int pid)
    {
        var parents = new Dictionary<int, int>();
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var child))
            {
                continue;
            }
            try
            {
                // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after its last ')'.
                var stat = File.ReadAllText(Path.Combine(folder, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                parents[child] = int.Parse(fields[1], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // It ended while we looked.
            }
        }
        var below = new List<(int, string)>();
        var frontier = new Queue<int>([pid]);
        while (frontier.TryDequeue(out var parent))
        {
            foreach (var (child, _) in parents.Where(p => p.Value == parent))
            {
                frontier.Enqueue(child);
                below.Add((child, CommandLineOf(child)));
            }
        }
        return below;
    }
}
