using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DaprShop.AppHost;

/// <summary>
/// The local Dapr mesh the AppHost runs: which runtime serves the sidecars (daprd when it is installed, DaprShop's own
/// sidecar otherwise), which resources folder (profile) they load, and where the embedded default keeps its data.
/// There is no CommunityToolkit Dapr integration here, so this is the AppHost's own sidecar wiring.
/// </summary>
public sealed class DaprMesh
{
    private readonly HashSet<int> _claimed = [];
    private readonly List<(IResourceBuilder<IResource> Server, string Variable, ReferenceExpression Address)> _servers = [];
    private readonly List<(string AppId, string Variable, string Value)> _appSettings = [];

    internal DaprMesh(IDistributedApplicationBuilder builder, string repositoryRoot, string profile, string resourcesPath, string dataDirectory, string? daprd)
    {
        Builder = builder;
        RepositoryRoot = repositoryRoot;
        Profile = profile;
        Daprd = daprd;
        ResourcesPath = resourcesPath;
        ConfigPath = Path.Combine(ResourcesPath, "configuration.yaml");
        DataDirectory = dataDirectory;
        MeshDirectory = Path.Combine(DataDirectory, "mesh");
        // One token per run: the services' SDK clients must present it to their sidecars (DAPR_API_TOKEN), and the
        // sidecars present theirs to the services (APP_API_TOKEN), so nothing else on the machine can use either.
        ApiToken = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
        AppToken = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
    }

    public IDistributedApplicationBuilder Builder { get; }
    public string RepositoryRoot { get; }

    /// <summary>The folder under <c>components/</c> the sidecars load (<c>--profile</c>, default "default").</summary>
    public string Profile { get; }
    public string ResourcesPath { get; }
    public string ConfigPath { get; }

    /// <summary>Everything the embedded default stores (state, outbox, mesh registry): delete it to start afresh.</summary>
    public string DataDirectory { get; }
    public string MeshDirectory { get; }

    /// <summary>The daprd binary when one was found; null when DaprShop's sidecar serves the mesh.</summary>
    public string? Daprd { get; }
    public string ApiToken { get; }
    public string AppToken { get; }

    /// <summary>DaprShop's sidecar, built with the AppHost (a project reference) in the AppHost's configuration.</summary>
    public string SidecarAssembly
    {
        get
        {
            var project = Path.GetDirectoryName(new Projects.DaprShop_Sidecar().ProjectPath)!;
            var dll = Path.Combine(project, "bin", BuildConfiguration, "net10.0", "daprshop-sidecar.dll");
            return File.Exists(dll) ? dll : throw new DistributedApplicationException($"The sidecar is not built: {dll} is missing (build the AppHost).");
        }
    }

    private static string BuildConfiguration =>
        typeof(DaprMesh).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyConfigurationAttribute), false)
            .OfType<System.Reflection.AssemblyConfigurationAttribute>().Single().Configuration;

    public string RuntimeDescription => Daprd is null
        ? "DaprShop's own Dapr-compatible sidecar (apphost/DaprShop.Sidecar): daprd was not found"
        : $"daprd at {Daprd}";

    /// <summary>Servers every sidecar waits for, and the variable that gives each sidecar the server's address.</summary>
    public IReadOnlyList<(IResourceBuilder<IResource> Server, string Variable, ReferenceExpression Address)> Servers => _servers;

    public void UseServer(IResourceBuilder<IResource> server, string variable, ReferenceExpression address) =>
        _servers.Add((server, variable, address));

    /// <summary>A setting the profile asks of one app (an environment variable of the app, not of its sidecar).</summary>
    public void UseAppSetting(string appId, string variable, string value) => _appSettings.Add((appId, variable, value));

    public IEnumerable<(string Variable, string Value)> AppSettingsOf(string appId) =>
        _appSettings.Where(s => s.AppId == appId).Select(s => (s.Variable, s.Value));

    /// <summary>Ports are chosen from here: below the ephemeral ranges of Linux (32768–60999), Windows and macOS (49152–65535).</summary>
    public const int LowestPort = 20000, HighestPort = 32767;

    /// <summary>
    /// A free loopback port, never the same twice in one run. Not one the OS hands out for port 0: those come from
    /// the ephemeral range, where any process's outgoing connection can take the port in the seconds before the app
    /// starts and binds it ("address already in use", seen on a restart of the whole shop).
    /// </summary>
    public int FreePort()
    {
        while (true)
        {
            var port = Random.Shared.Next(LowestPort, HighestPort + 1);
            if (_claimed.Contains(port))
            {
                continue;
            }
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
            }
            catch (SocketException)
            {
                continue; // in use
            }
            _claimed.Add(port);
            return port;
        }
    }

    internal static string? FindDaprd(IConfiguration configuration)
    {
        if (configuration["DaprShop:Daprd"] is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? Path.GetFullPath(configured)
                : throw new DistributedApplicationException($"DaprShop:Daprd names '{configured}', which does not exist.");
        }
        var candidates = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dapr", "bin"));
        return candidates.Select(dir => Path.Combine(dir, OperatingSystem.IsWindows() ? "daprd.exe" : "daprd")).FirstOrDefault(File.Exists);
    }
}

public static class DaprMeshExtensions
{
    /// <summary>
    /// Decides the runtime and the profile once, logs the choice at start, and gives the sidecars their folders.
    /// Configuration: <c>--profile &lt;name&gt;</c> (a folder under components/), <c>DaprShop:Daprd</c> (a daprd path),
    /// <c>DaprShop:UseEmbeddedSidecar=true</c> (ignore an installed daprd); for tests and unusual setups,
    /// <c>DaprShop:ResourcesPath</c> (any resources folder, instead of the profile's) and <c>DaprShop:DataDirectory</c>.
    /// </summary>
    public static DaprMesh AddDaprMesh(this IDistributedApplicationBuilder builder)
    {
        var root = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", ".."));
        var profile = builder.Configuration["profile"] ?? builder.Configuration["DaprShop:Profile"] ?? "default";
        var resources = builder.Configuration["DaprShop:ResourcesPath"] is { Length: > 0 } path ? Path.GetFullPath(path) : Path.Combine(root, "components", profile);
        if (!Directory.Exists(resources))
        {
            var known = string.Join(", ", Directory.GetDirectories(Path.Combine(root, "components")).Select(Path.GetFileName));
            throw new DistributedApplicationException($"There is no resources folder {resources} (profiles under components/: {known}).");
        }
        var data = builder.Configuration["DaprShop:DataDirectory"] is { Length: > 0 } dataPath ? Path.GetFullPath(dataPath) : Path.Combine(root, ".data");
        var daprd = builder.Configuration.GetValue<bool>("DaprShop:UseEmbeddedSidecar") ? null : DaprMesh.FindDaprd(builder.Configuration);
        var mesh = new DaprMesh(builder, root, profile, resources, data, daprd);
        Directory.CreateDirectory(mesh.MeshDirectory);

        builder.Eventing.Subscribe<BeforeStartEvent>((e, _) =>
        {
            var logger = e.Services.GetRequiredService<ILoggerFactory>().CreateLogger("DaprShop.AppHost");
            logger.LogInformation("Dapr runtime: {Runtime}", mesh.RuntimeDescription);
            logger.LogInformation("Dapr resources: {Resources}; local data: {Data}", mesh.ResourcesPath, mesh.DataDirectory);
            return Task.CompletedTask;
        });
        return mesh;
    }
}
