using DaprShop.Contracts;
using Xunit;

namespace DaprShop.Testing;

/// <summary>Where one part of a running shop listens.</summary>
public sealed record ShopEndpoint(string AppId, Uri App, Uri Sidecar, int SidecarGrpcPort);

/// <summary>
/// The whole shop as a developer runs it: catalog, basket, inventory, ordering, payment and notifications, each a
/// real process with its own real sidecar in one mesh, on the resources of <c>components/default</c> (one SQLite file
/// for every service's state, actors and workflows; in-memory pub/sub; local-file secrets; the localstorage outbox;
/// the catalog's in-memory cache; the default Resiliency and Configuration), with the data in a temp folder.
/// A sidecar without an app under the gateway's app id calls the services through Dapr invocation, as the gateway does.
/// <para>
/// xunit: <c>IClassFixture&lt;WholeShop&gt;</c> (or a collection fixture). Elsewhere: <see cref="StartAsync"/> and
/// <c>await using</c>.
/// </para>
/// </summary>
public sealed class WholeShop : IAsyncLifetime, IAsyncDisposable
{
    /// <summary>Every service of the shop, by app id, with its project folder under <c>services/</c>.</summary>
    public static readonly IReadOnlyList<(string AppId, string Project)> Services =
    [
        (AppIds.Catalog, "Catalog"),
        (AppIds.Basket, "Basket"),
        (AppIds.Inventory, "Inventory"),
        (AppIds.Ordering, "Ordering"),
        (AppIds.Payment, "Payment"),
        (AppIds.Notifications, "Notifications"),
    ];

    public sealed record Settings
    {
        /// <summary>
        /// Configuration per app id in environment-variable form (<c>Payment__LatencyMs</c>), over <see cref="Defaults"/>.
        /// </summary>
        public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Configuration { get; init; } =
            new Dictionary<string, IReadOnlyDictionary<string, string>>();

        /// <summary>The services' default log level; a benchmark turns it down so that logging does not cost CPU.</summary>
        public string LogLevel { get; init; } = "Information";

        /// <summary>The services' hosting environment: tests run them as a developer does; a benchmark as production does (no DI scope validation per resolve).</summary>
        public string Environment { get; init; } = "Development";

        public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(150);
    }

    /// <summary>
    /// The shop's own settings are kept (500 seeded products, which inventory's opening stock covers; the order
    /// timeouts): they are what a shopper meets. The payment provider answers in 20 ms like a network round trip, and
    /// its issuer confirms an asynchronous card after 2 s and re-offers an undelivered confirmation every second, so a
    /// test of that path waits seconds, not minutes.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Defaults = new Dictionary<string, IReadOnlyDictionary<string, string>>
    {
        [AppIds.Payment] = new Dictionary<string, string>
        {
            ["Payment__LatencyMs"] = "20",
            ["Payment__ConfirmationDelay"] = "00:00:02",
            ["Payment__ConfirmationRetryInterval"] = "00:00:01",
        },
    };

    private readonly Settings _settings;
    private readonly TestMesh _mesh = new();
    private readonly Dictionary<string, ServiceProcess> _services = [];
    private SidecarProcess? _gateway;

    /// <summary>The shop with its default settings, as xunit makes a fixture (it takes one public constructor only).</summary>
    public WholeShop() : this(new Settings())
    {
    }

    private WholeShop(Settings settings)
    {
        _settings = settings;
        Root = Directory.CreateTempSubdirectory("daprshop-shop-").FullName;
        ResourcesDirectory = Path.Combine(Root, "components");
        DataDirectory = Path.Combine(Root, ".data");
        OutboxDirectory = Path.Combine(DataDirectory, "outbox");
    }

    /// <summary>The temp folder of this shop: its components and its data.</summary>
    public string Root { get; }
    public string ResourcesDirectory { get; }
    public string DataDirectory { get; }

    /// <summary>Where the notifications service's mails land (the localstorage outbox).</summary>
    public string OutboxDirectory { get; }

    /// <summary>The shop's mesh: a sidecar started with it (an observer, a load generator's app) joins the shop.</summary>
    public string MeshDirectory => _mesh.Directory;

    public ServiceProcess Catalog => this[AppIds.Catalog];
    public ServiceProcess Basket => this[AppIds.Basket];
    public ServiceProcess Inventory => this[AppIds.Inventory];
    public ServiceProcess Ordering => this[AppIds.Ordering];
    public ServiceProcess Payment => this[AppIds.Payment];
    public ServiceProcess Notifications => this[AppIds.Notifications];

    public ServiceProcess this[string appId] => _services.TryGetValue(appId, out var service)
        ? service
        : throw new InvalidOperationException($"the shop has no running '{appId}' (started: {string.Join(", ", _services.Keys)})");

    /// <summary>The sidecar the tests and benchmarks call the shop through (app id <c>gateway</c>, no app).</summary>
    public SidecarProcess Gateway => _gateway ?? throw new InvalidOperationException("the shop is not started");

    /// <summary>Each service's own port and its sidecar's ports.</summary>
    public IReadOnlyList<ShopEndpoint> Endpoints =>
        [.. Services.Select(s => this[s.AppId]).Select(p => new ShopEndpoint(p.Sidecar.AppId, p.AppEndpoint, p.Sidecar.HttpEndpoint, p.Sidecar.GrpcPort))];

    public static async Task<WholeShop> StartAsync(Settings? settings = null)
    {
        var shop = new WholeShop(settings ?? new Settings());
        await shop.InitializeAsync();
        return shop;
    }

    public async Task InitializeAsync()
    {
        try
        {
            Profiles.CopyTo(ResourcesDirectory, DataDirectory, OutboxDirectory);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
        var config = Path.Combine(ResourcesDirectory, "configuration.yaml");
        // All at once: each start is mostly a process waiting for its JIT and its sidecar, and the services find each
        // other through the mesh whenever they call, so none has to wait for another.
        var starting = Services.Select(s => (s.AppId, Task: ServiceProcess.StartAsync(new()
        {
            Project = s.Project,
            AppId = s.AppId,
            ResourcesPaths = [ResourcesDirectory],
            ConfigPath = config,
            MeshDirectory = _mesh.Directory,
            Environment = EnvironmentOf(s.AppId),
        }, _settings.StartTimeout))).ToList();
        var gateway = SidecarProcess.StartAsync(new()
        {
            AppId = AppIds.Gateway,
            ResourcesPaths = [ResourcesDirectory],
            ConfigPath = config,
            MeshDirectory = _mesh.Directory,
            WaitForApp = false,
        }, _settings.StartTimeout);

        var failures = new List<Exception>();
        foreach (var (appId, task) in starting)
        {
            try
            {
                _services[appId] = await task;
            }
            catch (Exception e)
            {
                failures.Add(new InvalidOperationException($"{appId} did not start", e));
            }
        }
        try
        {
            _gateway = await gateway;
        }
        catch (Exception e)
        {
            failures.Add(new InvalidOperationException("the gateway's sidecar did not start", e));
        }
        if (failures.Count > 0)
        {
            // Whoever started this may not dispose a fixture that failed to start: leave no process behind.
            await DisposeAsync();
            throw new AggregateException("the shop did not start", failures);
        }
    }

    private Dictionary<string, string> EnvironmentOf(string appId)
    {
        var environment = new Dictionary<string, string>
        {
            ["Logging__LogLevel__Default"] = _settings.LogLevel,
            ["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning",
            ["ASPNETCORE_ENVIRONMENT"] = _settings.Environment,
        };
        foreach (var source in new[] { Defaults, _settings.Configuration })
        {
            if (source.TryGetValue(appId, out var values))
            {
                foreach (var (key, value) in values)
                {
                    environment[key] = value;
                }
            }
        }
        return environment;
    }

    /// <summary>
    /// A client for one service through the gateway's sidecar (<c>/v1.0/invoke/{appId}/method/</c>): relative URIs
    /// are the service's own routes, e.g. <c>api/v1/catalog/products</c>.
    /// </summary>
    public HttpClient CreateClient(string appId)
    {
        var http = Gateway.CreateHttpClient();
        http.BaseAddress = InvokeAddress(appId);
        return http;
    }

    public Uri InvokeAddress(string appId) => new(Gateway.HttpEndpoint, $"/v1.0/invoke/{appId}/method/");

    /// <summary>The shop's public APIs through the gateway's sidecar.</summary>
    public ShopClient CreateShopClient(HttpMessageHandler? handler = null) => new(Gateway.HttpEndpoint, handler, () => Tail(AppIds.Ordering, 60));

    /// <summary>The last lines a service (and then its sidecar) wrote, for a failure message.</summary>
    public string Tail(string appId, int lines = 80)
    {
        var all = this[appId].Output.Split(Environment.NewLine);
        return $"--- last output of {appId} ---{Environment.NewLine}{string.Join(Environment.NewLine, all.TakeLast(lines))}";
    }

    public async Task DisposeAsync()
    {
        KeepLogs();
        // Services first, each with its sidecar; then the gateway; then the files.
        await Task.WhenAll(_services.Values.Select(s => s.DisposeAsync().AsTask()));
        _services.Clear();
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
            _gateway = null;
        }
        _mesh.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>With <c>DAPRSHOP_SHOP_LOGS</c> set to a folder, each process's output is written there (to read after a CI run).</summary>
    private void KeepLogs()
    {
        var folder = Environment.GetEnvironmentVariable("DAPRSHOP_SHOP_LOGS");
        if (string.IsNullOrEmpty(folder) || _services.Count == 0)
        {
            return;
        }
        var run = Path.Combine(folder, $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Path.GetFileName(Root)}");
        Directory.CreateDirectory(run);
        foreach (var (appId, service) in _services)
        {
            File.WriteAllText(Path.Combine(run, appId + ".log"), service.Output);
        }
        if (_gateway is not null)
        {
            File.WriteAllText(Path.Combine(run, AppIds.Gateway + ".log"), _gateway.Output);
        }
    }

    ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());
}
