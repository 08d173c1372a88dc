using System.Net.Sockets;
using System.Text;

namespace DaprShop.AppHost;

/// <summary>The local Redis server's health check: AUTH then PING over RESP, answered +OK and +PONG.</summary>
internal static class RedisPing
{
    public static async Task<bool> AnswersAsync(int port, string password, CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port, cancellationToken);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"AUTH {password}\r\nPING\r\n"), cancellationToken);
            var reply = new StringBuilder();
            var buffer = new byte[64];
            while (!reply.ToString().Contains("+PONG", StringComparison.Ordinal) && reply.Length < 512)
            {
                var n = await stream.ReadAsync(buffer, cancellationToken);
                if (n == 0)
                {
                    break;
                }
                reply.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }
            return reply.ToString().StartsWith("+OK", StringComparison.Ordinal) && reply.ToString().Contains("+PONG", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            return false;
        }
    }
}
