using System.Net;
using System.Net.Sockets;

namespace DaprShop.Testing;

public static class Ports
{
    private static readonly HashSet<int> Handed = [];
    private static readonly string ClaimFolder = Path.Combine(Path.GetTempPath(), "daprshop-test-ports");

    /// <summary>
    /// A loopback port free right now and handed to no other test. Ports come from below the kernel's ephemeral
    /// range, so outgoing connections (which take ephemeral ports) cannot grab them between this check and the
    /// bind; a claim file makes the choice unique across the test processes running side by side.
    /// </summary>
    public static int Free()
    {
        var (low, high) = Range();
        lock (Handed)
        {
            Directory.CreateDirectory(ClaimFolder);
            for (var attempt = 0; attempt < 10_000; attempt++)
            {
                var port = Random.Shared.Next(low, high);
                if (Handed.Contains(port) || !CanBind(port) || !Claim(port))
                {
                    continue;
                }
                Handed.Add(port);
                return port;
            }
        }
        throw new InvalidOperationException($"no free port between {low} and {high}");
    }

    private static (int Low, int High) Range()
    {
        // Linux: ports below net.ipv4.ip_local_port_range are never used for outgoing connections.
        try
        {
            var parts = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            var ephemeralLow = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
            if (ephemeralLow > 12_000)
            {
                return (10_000, ephemeralLow);
            }
        }
        catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
        }
        return (20_000, 32_000);
    }

    private static bool CanBind(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    // A claim is a file named after the port; claims older than an hour are from runs long gone.
    private static bool Claim(int port)
    {
        var file = Path.Combine(ClaimFolder, port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            if (File.Exists(file) && DateTime.UtcNow - File.GetLastWriteTimeUtc(file) > TimeSpan.FromHours(1))
            {
                File.Delete(file);
            }
            using var _ = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
