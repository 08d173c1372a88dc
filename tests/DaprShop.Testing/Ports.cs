using System.Net;
using System.Net.Sockets;

namespace DaprShop.Testing;

public static class Ports
{
    private static readonly HashSet<int> Handed = [];

    /// <summary>A loopback port free right now and not handed to another test of this run.</summary>
    public static int Free()
    {
        lock (Handed)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                listener.Stop();
                if (Handed.Add(port))
                {
                    return port;
                }
            }
        }
    }
}
