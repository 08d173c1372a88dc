using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using DaprShop.Contracts;
using DaprShop.Ordering.Orders;
using DaprShop.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace DaprShop.Ordering.Tests.Integration;

/// <summary>
/// The ordering service as a real process with its real sidecar (sqlite state + workflow engine, in-memory
/// pub/sub, a local-file secret store), and the services it calls played by test apps, each with its own sidecar
/// under the peer's app id in the same mesh. A notifications-like subscriber records the order events.
/// </summary>
public sealed class Shop : IAsyncDisposable
{
    public const string WebhookKey = "test-signing-key";
    public const string ApprovedCard = "4242424242424242";
    public const string DeclinedCard = "4000000000000002";
    public const string AsyncCard = "4000000000003220";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private readonly TestMesh _mesh = new();
    private readonly ResourcesFolder _resources = new();
    private readonly ResourcesFolder _subscriberResources = new();
    private readonly string _secretsDir = Directory.CreateTempSubdirectory("daprshop-secrets-").FullName;
    private readonly List<IAsyncDisposable> _owned = [];

    private Shop()
    {
        var secrets = Path.Combine(_secretsDir, "secrets.json");
        File.WriteAllText(secrets, $$"""{ "payment": { "webhook-signing-key": "{{WebhookKey}}" } }""");
        _resources
            .WithComponent(Components.StateStore, "state.sqlite", ("connectionString", Path.Combine(_resources.Path, "state.db")), ("actorStateStore", "true"))
            .WithComponent(Components.PubSub, "pubsub.in-memory", ("redeliverInterval", "200ms"))
            .WithComponent(Components.SecretStore, "secretstores.local.file", ("secretsFile", secrets), ("nestedSeparator", ":"));
        _subscriberResources.WithComponent(Components.PubSub, "pubsub.in-memory", ("redeliverInterval", "200ms"));
    }

    public ServiceProcess Ordering { get; private set; } = null!;
    public TestApp Catalog { get; private set; } = null!;
    public TestApp Basket { get; private set; } = null!;
    public TestApp Inventory { get; private set; } = null!;
    public TestApp Payment { get; private set; } = null!;
    public TestApp Subscriber { get; private set; } = null!;

    /// <summary>Basket contents by shopper (quantities only, as the basket keeps them).</summary>
    public ConcurrentDictionary<string, BasketItemDto[]> Baskets { get; } = new();

    /// <summary>The catalog's prices.</summary>
    public ConcurrentDictionary<string, ProductPrice> Prices { get; } = new(new Dictionary<string, ProductPrice>
    {
        ["p-lamp"] = new("p-lamp", "Lamp", new Money(4_990, "EUR")),
        ["p-mug"] = new("p-mug", "Mug", new Money(1_250, "EUR")),
        ["p-gone"] = new("p-gone", "Gone", new Money(100, "EUR")),
    });

    /// <summary>Products inventory has none of.</summary>
    public ConcurrentDictionary<string, bool> OutOfStock { get; } = new();

    /// <summary>While set, the payment provider holds capture calls until the test completes it.</summary>
    public TaskCompletionSource? CaptureGate { get; set; }

    private readonly ConcurrentDictionary<string, PaymentResult> _payments = new();

    private IReadOnlyDictionary<string, string> _orderingSettings = new Dictionary<string, string>();

    public static async Task<Shop> StartAsync(IReadOnlyDictionary<string, string>? orderingSettings = null)
    {
        var shop = new Shop { _orderingSettings = orderingSettings ?? new Dictionary<string, string>() };
        try
        {
            await shop.StartPeersAsync();
            await shop.StartOrderingAsync();
        }
        catch
        {
            await shop.DisposeAsync();
            throw;
        }
        return shop;
    }

    private async Task StartOrderingAsync() =>
        Ordering = await ServiceProcess.StartAsync(new()
        {
            Project = "Ordering",
            AppId = AppIds.Ordering,
            ResourcesPaths = [_resources.Path],
            MeshDirectory = _mesh.Directory,
            Environment = _orderingSettings,
        });

    /// <summary>
    /// Stops ordering and its sidecar and starts both again on the same store (workflows resume), with the pub/sub
    /// component's extra metadata replaced by <paramref name="pubsubMetadata"/> (e.g. topic scoping).
    /// </summary>
    public async Task RestartOrderingAsync(params (string Name, string Value)[] pubsubMetadata)
    {
        await Ordering.DisposeAsync();
        _resources.WithComponent(Components.PubSub, "pubsub.in-memory", [("redeliverInterval", "200ms"), .. pubsubMetadata]);
        await StartOrderingAsync();
    }

    private async Task StartPeersAsync()
    {
        Catalog = await PeerAsync(AppIds.Catalog, app => app.MapPost("/internal/catalog/prices", (PriceQuery q) =>
            Results.Json(new PriceAnswer(q.ProductIds.Where(Prices.ContainsKey).ToDictionary(id => id, id => Prices[id])))));

        Basket = await PeerAsync(AppIds.Basket, app =>
        {
            app.MapGet("/api/v1/baskets/{shopperId}", (string shopperId) =>
                Results.Json(new BasketDto(shopperId, Baskets.GetValueOrDefault(shopperId) ?? [], DateTimeOffset.UtcNow)));
            // Ordering only reads baskets: the basket service empties one when it hears OrderConfirmed.
            app.MapDelete("/api/v1/baskets/{shopperId}", (string shopperId) => Results.StatusCode(StatusCodes.Status405MethodNotAllowed));
        });

        Inventory = await PeerAsync(AppIds.Inventory, app =>
        {
            app.MapPost("/internal/inventory/reservations", (ReserveStock r) =>
            {
                var shortIds = r.Lines.Select(l => l.ProductId).Where(OutOfStock.ContainsKey).ToList();
                return Results.Json(new ReservationResult(r.ReservationId, shortIds.Count == 0, shortIds));
            });
            app.MapPost("/internal/inventory/reservations/{id}/confirm", (string id) => Results.NoContent());
            app.MapPost("/internal/inventory/reservations/{id}/release", (string id) => Results.NoContent());
        });

        Payment = await PeerAsync(AppIds.Payment, app =>
        {
            app.MapPost("/internal/payments/authorize", (AuthorizePayment a) =>
                Results.Json(_payments.GetOrAdd(a.PaymentId, id => new PaymentResult(id, a.CardNumber switch
                {
                    DeclinedCard => PaymentStatus.Declined,
                    AsyncCard => PaymentStatus.Pending,
                    _ => PaymentStatus.Approved,
                }, a.CardNumber == DeclinedCard ? "do_not_honor" : null)), Json));
            app.MapPost("/internal/payments/{id}/capture", async (string id) =>
            {
                if (CaptureGate is { } gate)
                {
                    await gate.Task;
                }
                return Results.Json(_payments[id] = new PaymentResult(id, PaymentStatus.Captured, null), Json);
            });
            app.MapPost("/internal/payments/{id}/void", (string id) => Results.Json(_payments[id] = new PaymentResult(id, PaymentStatus.Voided, null), Json));
            app.MapPost("/internal/payments/{id}/refund", (string id) => Results.Json(_payments[id] = new PaymentResult(id, PaymentStatus.Refunded, null), Json));
            app.MapGet("/internal/payments/{id}", (string id) => _payments.TryGetValue(id, out var p) ? Results.Json(p, Json) : Results.NotFound());
        });

        Subscriber = await PeerAsync(AppIds.Notifications, app =>
        {
            app.MapGet("/dapr/subscribe", () => Results.Json(new[] { Topics.OrderConfirmed, Topics.OrderFailed, Topics.OrderCancelled }
                .Select(t => new { pubsubname = Components.PubSub, topic = t, route = "/events/" + t, deadLetterTopic = Topics.DeadLetter(t) })));
            app.MapPost("/events/{topic}", (string topic) => Results.Ok());
        }, _subscriberResources.Path);
    }

    private async Task<TestApp> PeerAsync(string appId, Action<WebApplication> map, string? resources = null)
    {
        var app = await TestApp.StartAsync(a => map(a));
        _owned.Add(app);
        var sidecar = await SidecarProcess.StartAsync(new()
        {
            AppId = appId,
            AppPort = app.Port,
            MeshDirectory = _mesh.Directory,
            ResourcesPaths = resources is null ? [] : [resources],
        });
        _owned.Add(sidecar);
        return app;
    }

    public void AddToBasket(string shopperId, params BasketItemDto[] items) => Baskets[shopperId] = items;

    /// <summary>The issuer decides a pending payment at the provider without the webhook reaching ordering (a lost webhook).</summary>
    public void DecideAtProvider(string paymentId, PaymentStatus status, string? reason = null) => _payments[paymentId] = new PaymentResult(paymentId, status, reason);

    public static object CheckoutBody(string shopperId, string card = ApprovedCard) => new
    {
        shopperId,
        email = $"{shopperId}@example.com",
        shippingAddress = new { name = "Ada Lovelace", line1 = "1 Main Street", city = "London", postalCode = "N1 1AA", country = "GB" },
        card = new { number = card, holder = "Ada Lovelace", expiry = "12/30", cvc = "123" },
    };

    public async Task<HttpResponseMessage> CheckoutAsync(string shopperId, string idempotencyKey, string card = ApprovedCard)
    {
        using var http = Ordering.CreateHttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders") { Content = JsonContent.Create(CheckoutBody(shopperId, card)) };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await http.SendAsync(request);
    }

    /// <summary>Checks out <paramref name="shopperId"/>'s basket and returns once the saga is held at the payment's capture (<see cref="CaptureGate"/>).</summary>
    public async Task CheckOutUntilCaptureAsync(string shopperId, string orderId, params BasketItemDto[] items)
    {
        AddToBasket(shopperId, items);
        CaptureGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await CheckoutAsync(shopperId, orderId);
        await Eventually.HoldsAsync(() => CallsTo(Payment, $"/internal/payments/{orderId}/capture") > 0, "the saga reaches the capture");
    }

    public async Task<OrderView?> GetOrderAsync(string orderId)
    {
        using var http = Ordering.CreateHttpClient();
        using var response = await http.GetAsync($"/api/v1/orders/{orderId}");
        return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<OrderView>(Json) : null;
    }

    /// <summary>Polls the order until it reaches <paramref name="status"/>; fails early if it finishes otherwise.</summary>
    public async Task<OrderView> WaitForStatusAsync(string orderId, OrderStatus status, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        OrderView? order = null;
        while (DateTime.UtcNow < deadline)
        {
            order = await GetOrderAsync(orderId);
            if (order?.Status == status)
            {
                return order;
            }
            if (order is { Status: OrderStatus.Confirmed or OrderStatus.Failed or OrderStatus.Cancelled })
            {
                throw new InvalidOperationException($"order {orderId} ended {order.Status} ({order.FailureReason}), expected {status}");
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"order {orderId} is {order?.Status.ToString() ?? "unknown"}, expected {status}:\n{Ordering.Output}");
    }

    public int CallsTo(TestApp app, string path) => app.RequestsTo(path).Count();

    public async ValueTask DisposeAsync()
    {
        if (Ordering is not null)
        {
            await Ordering.DisposeAsync();
        }
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }
        _resources.Dispose();
        _subscriberResources.Dispose();
        _mesh.Dispose();
        try
        {
            Directory.Delete(_secretsDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
