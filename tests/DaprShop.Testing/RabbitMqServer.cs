using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Xunit;

namespace DaprShop.Testing;

/// <summary>
/// A real RabbitMQ broker (Debian's <c>rabbitmq-server</c>) for the tests of one collection: a node of its own (its own
/// name, ports, Erlang port mapper, data and cookie in a temp folder), loopback only. Each test takes an empty virtual
/// host (<see cref="NewVirtualHost"/>); they are created at boot from a definitions file with one user, so no slow
/// <c>rabbitmqctl</c> call is needed per test. A missing broker fails the tests (never skips them): CI installs it.
/// </summary>
public sealed class RabbitMqServer : IAsyncLifetime
{
    private const string Server = "/usr/lib/rabbitmq/bin/rabbitmq-server";
    private const int VirtualHosts = 64;
    private const string User = "daprshop";
    private readonly string _password = Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
    private int _nextHost;
    private string _root = "";
    private int _epmdPort;
    private Process? _process;
    private readonly StringBuilder _log = new();

    public int Port { get; private set; }

    /// <summary>The <c>connectionString</c> of Dapr's RabbitMQ component for an unused virtual host.</summary>
    public string NewVirtualHost()
    {
        var n = Interlocked.Increment(ref _nextHost);
        if (n > VirtualHosts)
        {
            throw new InvalidOperationException($"the test broker has only {VirtualHosts} virtual hosts: raise RabbitMqServer.VirtualHosts");
        }
        return $"amqp://{User}:{_password}@127.0.0.1:{Port}/v{n}";
    }

    public async Task InitializeAsync()
    {
        if (!File.Exists(Server))
        {
            throw new InvalidOperationException($"{Server} was not found: install RabbitMQ: apt-get install -y rabbitmq-server");
        }
        _root = Directory.CreateTempSubdirectory("daprshop-rabbitmq-").FullName;
        Port = Ports.Free();
        var distPort = Ports.Free();
        _epmdPort = Ports.Free();
        File.WriteAllText(Path.Combine(_root, "enabled_plugins"), "[].");
        File.WriteAllText(Path.Combine(_root, "definitions.json"), Definitions());
        File.WriteAllText(Path.Combine(_root, "rabbitmq.conf"), $"load_definitions = {Path.Combine(_root, "definitions.json")}\n");
        Directory.CreateDirectory(Path.Combine(_root, "home"));

        var start = new ProcessStartInfo(Server)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _root,
        };
        foreach (var (name, value) in new Dictionary<string, string>
        {
            ["HOME"] = Path.Combine(_root, "home"), // the Erlang cookie
            ["RABBITMQ_NODENAME"] = $"daprshop-test-{Port}@localhost",
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODE_PORT"] = Port.ToString(CultureInfo.InvariantCulture),
            ["RABBITMQ_DIST_PORT"] = distPort.ToString(CultureInfo.InvariantCulture),
            ["ERL_EPMD_PORT"] = _epmdPort.ToString(CultureInfo.InvariantCulture),
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(_root, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(_root, "log"),
            ["RABBITMQ_LOGS"] = "-",
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(_root, "enabled_plugins"),
            ["RABBITMQ_CONFIG_FILE"] = Path.Combine(_root, "rabbitmq"),
        })
        {
            start.Environment[name] = value;
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start rabbitmq-server");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!await AcceptsAsync())
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"rabbitmq-server did not start on port {Port}:\n{Log()}");
            }
            await Task.Delay(200);
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    private string Log()
    {
        lock (_log)
        {
            return _log.ToString();
        }
    }

    // The port opens once the node has booted, definitions included.
    private async Task<bool> AcceptsAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", Port);
            return Log().Contains("Server startup complete", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>One user and the virtual hosts, as RabbitMQ's definitions format has them (SHA-256 password hash).</summary>
    private string Definitions()
    {
        var salt = RandomNumberGenerator.GetBytes(4);
        var hash = SHA256.HashData([.. salt, .. Encoding.UTF8.GetBytes(_password)]);
        var hosts = Enumerable.Range(1, VirtualHosts).Select(i => $"v{i}").ToList();
        return JsonSerializer.Serialize(new
        {
            users = new[] { new { name = User, password_hash = Convert.ToBase64String([.. salt, .. hash]), hashing_algorithm = "rabbit_password_hashing_sha256", tags = new[] { "administrator" } } },
            vhosts = hosts.Select(h => new { name = h }),
            permissions = hosts.Select(h => new { user = User, vhost = h, configure = ".*", write = ".*", read = ".*" }),
        });
    }

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
        if (_epmdPort > 0 && File.Exists("/usr/bin/epmd"))
        {
            // The node started a port mapper of its own, which outlives it: stop it too.
            using var epmd = Process.Start(new ProcessStartInfo("/usr/bin/epmd", ["-port", _epmdPort.ToString(CultureInfo.InvariantCulture), "-kill"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            if (epmd is not null)
            {
                await epmd.WaitForExitAsync();
            }
        }
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
