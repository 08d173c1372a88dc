using System.Diagnostics;
using System.Net.Sockets;
using Xunit;

namespace DaprShop.Testing;

/// <summary>
/// A real Redis server (Debian's <c>redis-server</c>) for the tests of one collection: its own temp folder, loopback
/// only, a free port, many logical databases so each test takes an empty one (<see cref="NewDatabase"/>), an
/// append-only file synced on every write as a durable deployment would configure it. A missing binary fails the
/// tests (never skips them): CI installs redis-server.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private const string Binary = "/usr/bin/redis-server";
    private const int Databases = 1000;
    private static int _nextDatabase;
    private string _root = "";
    private Process? _process;

    public int Port { get; private set; }

    /// <summary>The <c>redisHost</c> value of Dapr's Redis components.</summary>
    public string Host => $"127.0.0.1:{Port}";

    /// <summary>An unused logical database number (<c>redisDB</c>) for one test or one store.</summary>
    public int NewDatabase() => Interlocked.Increment(ref _nextDatabase) % Databases;

    public async Task InitializeAsync()
    {
        if (!File.Exists(Binary))
        {
            throw new InvalidOperationException($"{Binary} was not found: install Redis: apt-get install -y redis-server");
        }
        _root = Directory.CreateTempSubdirectory("daprshop-redis-").FullName;
        Port = Ports.Free();
        var start = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _root,
        };
        foreach (var arg in new[]
        {
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", _root,
            "--databases", Databases.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no", "--protected-mode", "yes",
        })
        {
            start.ArgumentList.Add(arg);
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start redis-server");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await PingsAsync())
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"redis-server did not start on port {Port} (exit code {(_process.HasExited ? _process.ExitCode : -1)})");
            }
            await Task.Delay(50);
        }
    }

    private async Task<bool> PingsAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var n = await stream.ReadAsync(buffer);
            return System.Text.Encoding.ASCII.GetString(buffer, 0, n).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
        if (_root.Length > 0)
        {
            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
