using System.Net.WebSockets;
using DaprShop.Contracts;
using DaprShop.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace DaprShop.Gateway.Tests.Integration;

/// <summary>
/// The gateway as a real process with its real sidecar (which demands an API token), in a mesh where test apps
/// with their own sidecars play catalog, basket, inventory and ordering under their real app ids. Each of them
/// answers any path with <c>{"app": ..., "method": ..., "path": ..., "query": ...}</c>; the catalog also has the
/// few endpoints the edge features need. The storefront is a plain Kestrel app with no sidecar at all.
/// </summary>
public sealed class Edge : IAsyncLifetime
{
    public const string GatewayApiToken = "gateway-sidecar-token";
    public const int ApiTimeoutSeconds = 2;

    /// <summary>The second gateway's admission limits: two API calls in flight, one more waiting at most 500 ms.</summary>
    public const int BusyMaxConcurrent = 2;
    public const int BusyQueueMilliseconds = 500;

    private readonly TestMesh _mesh = new();
    private readonly List<IAsyncDisposable> _owned = [];

    public ServiceProcess Gateway { get; private set; } = null!;

    /// <summary>A second replica of the gateway in the same mesh whose admission limits are tiny, to fill them.</summary>
    public ServiceProcess BusyGateway { get; private set; } = null!;
    public TestApp Catalog { get; private set; } = null!;
    public TestApp Basket { get; private set; } = null!;
    public TestApp Inventory { get; private set; } = null!;
    public TestApp Ordering { get; private set; } = null!;
    public TestApp Storefront { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Catalog = await StandInAsync(AppIds.Catalog, MapCatalog);
        Basket = await StandInAsync(AppIds.Basket);
        Inventory = await StandInAsync(AppIds.Inventory);
        Ordering = await StandInAsync(AppIds.Ordering);
        Storefront = await StartStorefrontAsync();
        _owned.Add(Storefront);
        Gateway = await StartGatewayAsync([]);
        BusyGateway = await StartGatewayAsync(new()
        {
            ["Gateway__Admission__MaxConcurrentApiCalls"] = BusyMaxConcurrent.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Gateway__Admission__QueueLimit"] = "1",
            ["Gateway__Admission__MaxQueueMilliseconds"] = BusyQueueMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
    }

    private Task<ServiceProcess> StartGatewayAsync(Dictionary<string, string> settings)
    {
        var environment = new Dictionary<string, string>(settings)
        {
            // The AppHost's service discovery form.
            ["services__storefront__http__0"] = $"http://127.0.0.1:{Storefront.Port}",
            ["Gateway__ApiTimeoutSeconds"] = ApiTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Gateway__Caching__CatalogReadSeconds"] = "300",
            ["Gateway__RateLimit__PermitLimit"] = "100000",
        };
        return ServiceProcess.StartAsync(new()
        {
            Project = "Gateway",
            AppId = AppIds.Gateway,
            MeshDirectory = _mesh.Directory,
            ApiToken = GatewayApiToken,
            Environment = environment,
        });
    }

    /// <summary>A client of the gateway that sees responses as they are sent (no automatic decompression, no cookies).</summary>
    public HttpClient CreateClient(ServiceProcess? gateway = null) =>
        new(new SocketsHttpHandler { AutomaticDecompression = System.Net.DecompressionMethods.None, UseCookies = false })
        {
            BaseAddress = (gateway ?? Gateway).AppEndpoint,
            Timeout = TimeSpan.FromSeconds(30),
        };

    private async Task<TestApp> StandInAsync(string appId, Action<WebApplication>? map = null)
    {
        var app = await TestApp.StartAsync(a =>
        {
            map?.Invoke(a);
            a.MapFallback("{**path}", (HttpRequest request) => Results.Json(new StandInAnswer(appId, request.Method, request.Path.Value ?? "", request.QueryString.Value ?? "")));
        });
        _owned.Add(app);
        _owned.Add(await SidecarProcess.StartAsync(new() { AppId = appId, AppPort = app.Port, MeshDirectory = _mesh.Directory }));
        return app;
    }

    private static void MapCatalog(WebApplication app)
    {
        // A listing big enough to be worth compressing.
        app.MapGet("/api/v1/catalog/products", (HttpRequest request) => Results.Json(new
        {
            query = request.QueryString.Value,
            items = Enumerable.Range(1, 50).Select(i => new { id = $"p-{i:0000}", name = $"Product number {i}", description = "A perfectly ordinary product." }),
        }));
        app.MapGet("/api/v1/catalog/products/{id}/picture", (string id, HttpResponse response) =>
        {
            if (id == "own-lifetime")
            {
                response.Headers.CacheControl = "public, max-age=60";
            }
            return Results.Text("<svg xmlns=\"http://www.w3.org/2000/svg\"/>", "image/svg+xml");
        });
        app.MapPut("/api/v1/catalog/products/{id}/price", () => Results.NoContent());
        app.MapGet("/api/v1/catalog/hang", async (CancellationToken cancellationToken) =>
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return Results.Ok();
        });
        app.MapGet("/api/v1/catalog/products/missing", () => Results.Problem(statusCode: 404, detail: "No product missing."));
        app.MapGet("/api/v1/catalog/broken", () => Results.Json(new { error = "the catalog's own failure" }, statusCode: 500));
        app.MapGet("/openapi/v1.json", () => Results.Json(new { openapi = "3.1.1", info = new { title = "catalog stand-in" } }));
    }

    private static Task<TestApp> StartStorefrontAsync() => TestApp.StartAsync(app =>
    {
        app.UseWebSockets();
        app.MapGet("/", () => Results.Content("<!DOCTYPE html><html><body><h1>DaprShop</h1></body></html>", "text/html"));
        app.MapGet("/_framework/blazor.web.js", () => Results.Text("console.log('blazor');", "text/javascript"));
        app.MapGet("/css/site.css", (HttpResponse response) =>
        {
            response.Headers.CacheControl = "no-cache";
            return Results.Text("body { color: black; }", "text/css");
        });
        app.Map("/ws", async (HttpContext context) =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                return Results.BadRequest();
            }
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[4096];
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                    return Results.Empty;
                }
                await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, CancellationToken.None);
            }
        });
    });

    public async Task DisposeAsync()
    {
        foreach (var gateway in new[] { BusyGateway, Gateway })
        {
            if (gateway is not null)
            {
                await gateway.DisposeAsync();
            }
        }
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }
        _mesh.Dispose();
    }
}

public sealed record StandInAnswer(string App, string Method, string Path, string Query);

[CollectionDefinition(Name)]
public sealed class EdgeCollection : ICollectionFixture<Edge>
{
    public const string Name = "edge";
}
