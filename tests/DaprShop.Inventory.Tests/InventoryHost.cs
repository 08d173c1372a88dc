using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using DaprShop.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DaprShop.Inventory.Tests;

/// <summary>
/// The inventory service as a real process with its real sidecar (actors on a SQLite actor state store, in-memory
/// pub/sub), and a watcher: a test app under its own app id and sidecar that subscribes to the stock events.
/// </summary>
internal sealed class InventoryHost : IAsyncDisposable
{
    private readonly IReadOnlyDictionary<string, string> _environment;

    private InventoryHost(TestMesh mesh, ResourcesFolder resources, IReadOnlyDictionary<string, string> environment)
    {
        Mesh = mesh;
        Resources = resources;
        _environment = environment;
    }

    public TestMesh Mesh { get; }
    public ResourcesFolder Resources { get; }
    public ServiceProcess Service { get; private set; } = null!;
    public TestApp? Watcher { get; private set; }
    public SidecarProcess? WatcherSidecar { get; private set; }
    public ConcurrentQueue<(string Topic, JsonElement Data)> Events { get; } = new();

    public static async Task<InventoryHost> StartAsync(bool withWatcher = false, IReadOnlyDictionary<string, string>? environment = null)
    {
        var mesh = new TestMesh();
        var resources = new ResourcesFolder();
        resources.WithComponent(Components.StateStore, "state.sqlite", ("connectionString", Path.Combine(resources.Path, "state.db")), ("actorStateStore", "true"))
            .WithComponent(Components.PubSub, "pubsub.in-memory", ("redeliverInterval", "200ms"));
        var host = new InventoryHost(mesh, resources, environment ?? new Dictionary<string, string>());
        try
        {
            if (withWatcher)
            {
                await host.StartWatcherAsync();
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

    private async Task StartWatcherAsync()
    {
        Watcher = await TestApp.StartAsync(a =>
        {
            a.MapGet("/dapr/subscribe", () => Results.Json(new object[]
            {
                new { pubsubname = Components.PubSub, topic = Topics.StockRestocked, route = "/restocked", deadLetterTopic = Topics.DeadLetter(Topics.StockRestocked) },
                new { pubsubname = Components.PubSub, topic = Topics.StockLow, route = "/low", deadLetterTopic = Topics.DeadLetter(Topics.StockLow) },
            }));
            a.MapPost("/restocked", async (HttpRequest request) => Receive(Topics.StockRestocked, await JsonDocument.ParseAsync(request.Body)));
            a.MapPost("/low", async (HttpRequest request) => Receive(Topics.StockLow, await JsonDocument.ParseAsync(request.Body)));
        });
        var pubsubOnly = new ResourcesFolder().WithComponent(Components.PubSub, "pubsub.in-memory", ("redeliverInterval", "200ms"));
        WatcherSidecar = await SidecarProcess.StartAsync(new() { AppId = "watcher", AppPort = Watcher.Port, ResourcesPaths = [pubsubOnly.Path], MeshDirectory = Mesh.Directory });
    }

    private IResult Receive(string topic, JsonDocument cloudEvent)
    {
        Events.Enqueue((topic, cloudEvent.RootElement.GetProperty("data").Clone()));
        return Results.Ok();
    }

    private async Task StartServiceAsync() =>
        Service = await ServiceProcess.StartAsync(new()
        {
            Project = "Inventory",
            AppId = AppIds.Inventory,
            ResourcesPaths = [Resources.Path],
            MeshDirectory = Mesh.Directory,
            Environment = _environment,
        });

    /// <summary>Kills the service and its sidecar and starts both again on the same store.</summary>
    public async Task RestartServiceAndSidecarAsync()
    {
        await Service.DisposeAsync();
        await StartServiceAsync();
    }

    /// <summary>A client to the inventory's sidecar: requests reach the service through Dapr service invocation.</summary>
    public HttpClient Client() => Service.Sidecar.CreateHttpClient();

    public const string Invoke = "/v1.0/invoke/inventory/method/";

    public async Task<StockDto> StockAsync(string productId)
    {
        using var http = Client();
        using var response = await http.GetAsync(Invoke + "api/v1/inventory/" + productId);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"GET stock answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}\n{Service.Output}");
        }
        return (await response.Content.ReadFromJsonAsync<StockDto>())!;
    }

    public async Task<StockDto> RestockAsync(string productId, int quantity)
    {
        using var http = Client();
        using var response = await http.PostAsJsonAsync(Invoke + $"api/v1/inventory/{productId}/restock", new { quantity });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<StockDto>())!;
    }

    public async Task<HttpResponseMessage> ReserveAsync(string reservationId, int expiresInSeconds, params (string ProductId, int Quantity)[] lines)
    {
        using var http = Client();
        return await http.PostAsJsonAsync(Invoke + "internal/inventory/reservations",
            new ReserveStock(reservationId, [.. lines.Select(l => new BasketItemDto(l.ProductId, l.Quantity))], expiresInSeconds));
    }

    public async Task<ReservationResult> ReserveOkAsync(string reservationId, int expiresInSeconds, params (string ProductId, int Quantity)[] lines)
    {
        using var response = await ReserveAsync(reservationId, expiresInSeconds, lines);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"reserve answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}\n{Service.Output}");
        }
        return (await response.Content.ReadFromJsonAsync<ReservationResult>())!;
    }

    public async Task<HttpResponseMessage> TransitionAsync(string reservationId, string action)
    {
        using var http = Client();
        return await http.PostAsync(Invoke + $"internal/inventory/reservations/{reservationId}/{action}", null);
    }

    public async Task<string?> StatusAsync(string reservationId)
    {
        using var http = Client();
        using var response = await http.GetAsync(Invoke + $"internal/inventory/reservations/{reservationId}");
        if (!response.IsSuccessStatusCode)
        {
            return null;
        }
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("status").ToString();
    }

    public async ValueTask DisposeAsync()
    {
        if (Service is not null)
        {
            await Service.DisposeAsync();
        }
        if (WatcherSidecar is not null)
        {
            await WatcherSidecar.DisposeAsync();
        }
        if (Watcher is not null)
        {
            await Watcher.DisposeAsync();
        }
        Resources.Dispose();
        Mesh.Dispose();
    }
}
