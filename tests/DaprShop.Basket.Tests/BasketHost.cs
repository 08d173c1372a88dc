using System.Net.Http.Json;
using DaprShop.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DaprShop.Basket.Tests;

/// <summary>
/// The basket service as a real process with its real sidecar (actors on a SQLite actor state store), and a test app
/// standing in for the catalog under app id <c>catalog</c> with a sidecar of its own: products <c>p-*</c> exist.
/// </summary>
internal sealed class BasketHost : IAsyncDisposable
{
    private readonly IReadOnlyDictionary<string, string> _environment;

    private BasketHost(TestMesh mesh, ResourcesFolder resources, IReadOnlyDictionary<string, string> environment)
    {
        Mesh = mesh;
        Resources = resources;
        _environment = environment;
    }

    public TestMesh Mesh { get; }
    public ResourcesFolder Resources { get; }
    public ServiceProcess Service { get; private set; } = null!;
    public TestApp? Catalog { get; private set; }
    public SidecarProcess? CatalogSidecar { get; private set; }

    public static async Task<BasketHost> StartAsync(bool withCatalog = true, IReadOnlyDictionary<string, string>? environment = null)
    {
        var mesh = new TestMesh();
        var resources = new ResourcesFolder();
        resources.WithComponent(Components.StateStore, "state.sqlite", ("connectionString", Path.Combine(resources.Path, "state.db")), ("actorStateStore", "true"));
        resources.WithComponent(Components.PubSub, "pubsub.in-memory");
        var host = new BasketHost(mesh, resources, environment ?? new Dictionary<string, string>());
        try
        {
            if (withCatalog)
            {
                await host.StartCatalogAsync();
            }
            await host.StartServiceAsync();
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
        return host;
    }

    private async Task StartCatalogAsync()
    {
        Catalog = await TestApp.StartAsync(a => a.MapGet("/api/v1/catalog/products/{productId}", (string productId) =>
            productId.StartsWith("p-", StringComparison.Ordinal)
                ? Results.Json(new ProductDto(productId, "Product " + productId, "", "mugs", "acme", new Money(1299, "EUR"), "", new Dictionary<string, string>(), true))
                : Results.NotFound()));
        CatalogSidecar = await SidecarProcess.StartAsync(new() { AppId = AppIds.Catalog, AppPort = Catalog.Port, MeshDirectory = Mesh.Directory });
    }

    private async Task StartServiceAsync() =>
        Service = await ServiceProcess.StartAsync(new()
        {
            Project = "Basket",
            AppId = AppIds.Basket,
            ResourcesPaths = [Resources.Path],
            MeshDirectory = Mesh.Directory,
            Environment = _environment,
        });

    /// <summary>Takes the catalog (its app and its sidecar) away: a catalog outage.</summary>
    public async Task StopCatalogAsync()
    {
        await CatalogSidecar!.DisposeAsync();
        await Catalog!.DisposeAsync();
        (CatalogSidecar, Catalog) = (null, null);
    }

    /// <summary>Kills the service and its sidecar and starts both again on the same store.</summary>
    public async Task RestartServiceAndSidecarAsync()
    {
        await Service.DisposeAsync();
        await StartServiceAsync();
    }

    /// <summary>A client to the basket's sidecar: requests go to the basket through Dapr service invocation.</summary>
    public HttpClient Client() => Service.Sidecar.CreateHttpClient();

    public static string Route(string path) => "/v1.0/invoke/basket/method/api/v1/baskets/" + path;

    public async Task<BasketDto> GetAsync(string shopperId)
    {
        using var http = Client();
        using var response = await http.GetAsync(Route(shopperId));
        if (!response.IsSuccessStatusCode)
        {
            // The processes' output is what explains a failure here.
            throw new HttpRequestException($"GET basket answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}\n{Service.Output}");
        }
        return (await response.Content.ReadFromJsonAsync<BasketDto>())!;
    }

    public async Task<HttpResponseMessage> AddAsync(string shopperId, string productId, int quantity)
    {
        using var http = Client();
        return await http.PostAsJsonAsync(Route($"{shopperId}/items"), new { productId, quantity });
    }

    public async ValueTask DisposeAsync()
    {
        if (Service is not null)
        {
            await Service.DisposeAsync();
        }
        if (CatalogSidecar is not null)
        {
            await CatalogSidecar.DisposeAsync();
        }
        if (Catalog is not null)
        {
            await Catalog.DisposeAsync();
        }
        Resources.Dispose();
        Mesh.Dispose();
    }
}
