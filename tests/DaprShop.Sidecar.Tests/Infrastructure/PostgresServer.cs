using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace DaprShop.Sidecar.Tests.Infrastructure;

/// <summary>
/// A real PostgreSQL server for the tests of one collection: a fresh cluster in a temp folder, trust auth,
/// listening on 127.0.0.1 on a free port. Tests take an isolated database each from <see cref="CreateDatabaseAsync"/>.
/// Missing binaries fail the tests (never skip them): CI installs PostgreSQL.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private const string InstallHint = "PostgreSQL server binaries (initdb, pg_ctl) were not found under /usr/lib/postgresql/*/bin: install postgresql: apt-get install -y postgresql";
    private static int _databases;
    private readonly SemaphoreSlim _createGate = new(1, 1);
    private string _root = "";
    private string _bin = "";

    public int Port { get; private set; }
    private string DataDir => Path.Combine(_root, "data");
    private string SocketDir => Path.Combine(_root, "sock");

    /// <summary>The server's admin connection string, in Npgsql's form.</summary>
    public string AdminConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=false;Timeout=30";

    /// <summary>The libpq form daprd's components are configured with.</summary>
    public string DaprConnectionString(string database) =>
        $"host=127.0.0.1 port={Port} user=postgres dbname={database} connect_timeout=10";

    public async Task InitializeAsync()
    {
        _bin = FindBinaries() ?? throw new InvalidOperationException(InstallHint);
        _root = Directory.CreateTempSubdirectory("daprshop-pg-").FullName;
        Directory.CreateDirectory(SocketDir);
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            // PostgreSQL refuses to run as root: the cluster belongs to the postgres OS user.
            await RunAsync("chown", ["-R", "postgres:postgres", _root]);
        }
        Port = Ports.Free();
        await RunPgAsync(asRoot, "initdb", ["-D", DataDir, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"]);
        var options = string.Join(' ',
            $"-p {Port}", "-c listen_addresses=127.0.0.1", $"-c unix_socket_directories={SocketDir}",
            "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off", "-c max_connections=300");
        await RunPgAsync(asRoot, "pg_ctl", ["-D", DataDir, "-l", Path.Combine(_root, "server.log"), "-w", "-t", "60", "-o", options, "start"]);
    }

    /// <summary>A new, empty database for one test or test class.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"t{Interlocked.Increment(ref _databases)}_{Guid.NewGuid():N}"[..20];
        // CREATE DATABASE copies template1; one at a time avoids "source database is being accessed" races.
        await _createGate.WaitAsync();
        try
        {
            await using var conn = new NpgsqlConnection(AdminConnectionString());
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        finally
        {
            _createGate.Release();
        }
        return name;
    }

    public async Task DisposeAsync()
    {
        if (_root.Length == 0)
        {
            return;
        }
        try
        {
            if (File.Exists(Path.Combine(DataDir, "postmaster.pid")))
            {
                await RunPgAsync(Environment.UserName == "root", "pg_ctl", ["-D", DataDir, "-m", "immediate", "-w", "stop"]);
            }
        }
        finally
        {
            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    private static string? FindBinaries()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root))
        {
            return null;
        }
        return Directory.GetDirectories(root)
            .Select(d => Path.Combine(d, "bin"))
            .Where(b => File.Exists(Path.Combine(b, "initdb")) && File.Exists(Path.Combine(b, "pg_ctl")))
            .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0)
            .FirstOrDefault();
    }

    private Task RunPgAsync(bool asRoot, string tool, IReadOnlyList<string> args) =>
        asRoot
            ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. args])
            : RunAsync(Path.Combine(_bin, tool), args);

    private static async Task RunAsync(string file, IReadOnlyList<string> args)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed with exit code {process.ExitCode}:\n{await stdout}\n{await stderr}");
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "PostgreSQL";
}
