using System.Collections.Concurrent;
using System.Text.Json;
using DaprShop.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DaprShop.Catalog.Tests.Integration;

/// <summary>
/// The catalog as a real process with its real sidecar (sqlite state, the shipped in-memory cache component,
/// in-memory pub/sub), a storefront sidecar that calls it as other services do, and a fake ordering service with
/// its own sidecar that subscribes to price changes.
/// </summary>
public sealed class CatalogFixture : IAsyncLifetime
{
    /// <summary>How long the catalog keeps a read in its own memory here: long enough to read twice inside it on a slow machine.</summary>
    public const int NearCacheSeconds = 5;

    public TestMesh Mesh { get; } = new();
    public ResourcesFolder Shared { get; } = new();
    public ResourcesFolder CatalogOnly { get; } = new();
    public ServiceProcess Catalog { get; private set; } = null!;
    public SidecarProcess Storefront { get; private set; } = null!;
    public TestApp Subscriber { get; private set; } = null!;
    private SidecarProcess _subscriberSidecar = null!;

    /// <summary>The <c>ProductPriceChanged</c> events the fake ordering service received (their data).</summary>
    public ConcurrentQueue<JsonElement> PriceChanges { get; } = new();

    /// <summary>The same events as whole CloudEvents.</summary>
    public ConcurrentQueue<JsonElement> PriceChangeEvents { get; } = new();

    public string StateFile => Path.Combine(CatalogOnly.Path, "state.db");

    public async Task InitializeAsync()
    {
        Shared.WithComponent(Components.PubSub, "pubsub.in-memory", ("redeliverInterval", "200ms"));
        CatalogOnly
            .WithComponent(Components.StateStore, "state.sqlite", ("connectionString", Path.Combine(CatalogOnly.Path, "state.db")), ("actorStateStore", "true"))
            .With("catalogstore.yaml", File.ReadAllText(Path.Combine(Repo.Root, "components", "default", "catalogstore.yaml"))
                .Replace(".data/catalog.db", StateFile, StringComparison.Ordinal))
            .With("cache.yaml", File.ReadAllText(Path.Combine(Repo.Root, "components", "default", "cache.yaml")));

        Subscriber = await TestApp.StartAsync(app =>
        {
            // Only price changes: a routing rule on the CloudEvent type; other catalog events match no rule and are dropped.
            app.MapGet("/dapr/subscribe", () => Results.Json(new[]
            {
                new
                {
                    pubsubname = Components.PubSub,
                    topic = Topics.CatalogEvents,
                    routes = new { rules = new[] { new { match = CatalogEventTypes.Match(CatalogEventTypes.PriceChanged), path = "/price-changed" } } },
                },
            }));
            app.MapPost("/price-changed", async (HttpRequest request) =>
            {
                using var cloudEvent = await JsonDocument.ParseAsync(request.Body);
                PriceChanges.Enqueue(cloudEvent.RootElement.GetProperty("data").Clone());
                PriceChangeEvents.Enqueue(cloudEvent.RootElement.Clone());
                return Results.Ok();
            });
        });
        _subscriberSidecar = await SidecarProcess.StartAsync(new()
        {
            AppId = AppIds.Ordering,
            AppPort = Subscriber.Port,
            ResourcesPaths = [Shared.Path],
            MeshDirectory = Mesh.Directory,
        });
        Catalog = await ServiceProcess.StartAsync(new()
        {
            Project = "Catalog",
            AppId = AppIds.Catalog,
            ResourcesPaths = [Shared.Path, CatalogOnly.Path],
            MeshDirectory = Mesh.Directory,
            Environment = new Dictionary<string, string> { ["Catalog__NearCacheSeconds"] = NearCacheSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        });
        Storefront = await SidecarProcess.StartAsync(new()
        {
            AppId = AppIds.Storefront,
            ResourcesPaths = [Shared.Path],
            MeshDirectory = Mesh.Directory,
            WaitForApp = false,
        });
    }

    /// <summary>A client that reaches the catalog through the storefront's sidecar, as another service would.</summary>
    public HttpClient ThroughDapr()
    {
        var http = Storefront.CreateHttpClient();
        http.BaseAddress = new Uri(Storefront.HttpEndpoint, "/v1.0/invoke/catalog/method/");
        return http;
    }

    public async Task DisposeAsync()
    {
        await Storefront.DisposeAsync();
        await Catalog.DisposeAsync();
        await _subscriberSidecar.DisposeAsync();
        await Subscriber.DisposeAsync();
        Shared.Dispose();
        CatalogOnly.Dispose();
        Mesh.Dispose();
    }
}
