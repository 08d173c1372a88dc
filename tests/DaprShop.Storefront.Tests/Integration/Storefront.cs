using System.Collections.Concurrent;
using System.Net;
using System.Text.RegularExpressions;
using DaprShop.Contracts;
using DaprShop.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace DaprShop.Storefront.Tests.Integration;

/// <summary>
/// The storefront as a real process with its own real sidecar, and the services it calls played by test apps, each
/// with its own sidecar under the service's app id in the same mesh: every call the storefront makes goes through
/// Dapr service invocation, as in the shop. A service left out (<see cref="StartAsync"/>'s <c>without</c>) is down.
/// </summary>
public sealed partial class Storefront : IAsyncDisposable
{
    public static readonly object Lamp = Product("p-lamp", "Desk Lamp", "Lighting", "Lumo", 4_990, available: true);
    public static readonly object Chair = Product("p-chair", "Office Chair", "Furniture", "Sitwell", 129_900, available: true);
    public static readonly object Mug = Product("p-mug", "Enamel Mug", "Kitchen", "Camp", 1_250, available: false);

    private readonly TestMesh _mesh = new();
    private readonly List<IAsyncDisposable> _owned = [];

    private Storefront()
    {
    }

    public ServiceProcess App { get; private set; } = null!;
    public TestApp? Catalog { get; private set; }
    public TestApp? Basket { get; private set; }
    public TestApp? Ordering { get; private set; }

    /// <summary>Basket contents by shopper id, as the basket keeps them (quantities only).</summary>
    public ConcurrentDictionary<string, List<BasketItemDto>> Baskets { get; } = new();

    /// <summary>Orders the stand-in ordering service knows, by id (JSON as ordering answers).</summary>
    public ConcurrentDictionary<string, object> Orders { get; } = new();

    /// <summary>While set, ordering answers every call with this status (a failing service behind a live sidecar).</summary>
    public HttpStatusCode? OrderingFailure { get; set; }

    public static async Task<Storefront> StartAsync(params string[] without)
    {
        var site = new Storefront();
        try
        {
            if (!without.Contains(AppIds.Catalog))
            {
                site.Catalog = await site.PeerAsync(AppIds.Catalog, site.MapCatalog);
            }
            if (!without.Contains(AppIds.Basket))
            {
                site.Basket = await site.PeerAsync(AppIds.Basket, site.MapBasket);
            }
            if (!without.Contains(AppIds.Inventory))
            {
                await site.PeerAsync(AppIds.Inventory, app => app.MapGet("/api/v1/inventory/{productId}", (string productId) =>
                    Results.Json(new StockDto(productId, 5, 2, 3))));
            }
            if (!without.Contains(AppIds.Ordering))
            {
                site.Ordering = await site.PeerAsync(AppIds.Ordering, site.MapOrdering);
            }
            site.App = await ServiceProcess.StartAsync(new()
            {
                Project = "web/Storefront",
                AppId = AppIds.Storefront,
                MeshDirectory = site._mesh.Directory,
                Environment = new Dictionary<string, string>
                {
                    ["Storefront__ServiceTimeout"] = "00:00:04",
                    ["Storefront__OrderRefreshInterval"] = "00:00:00.500",
                },
            });
        }
        catch
        {
            await site.DisposeAsync();
            throw;
        }
        return site;
    }

    private async Task<TestApp> PeerAsync(string appId, Action<WebApplication> map)
    {
        var app = await TestApp.StartAsync(map);
        _owned.Add(app);
        _owned.Add(await SidecarProcess.StartAsync(new() { AppId = appId, AppPort = app.Port, MeshDirectory = _mesh.Directory }));
        return app;
    }

    private static object Product(string id, string name, string category, string brand, long cents, bool available) => new
    {
        productId = id,
        name,
        description = $"The {name.ToLowerInvariant()} everybody wants.",
        category,
        brand,
        price = new { amount = cents, currency = "EUR" },
        pictureUrl = $"/api/v1/catalog/products/{id}/picture",
        attributes = new Dictionary<string, string> { ["colour"] = "green" },
        available,
    };

    private static readonly Dictionary<string, object> Products = new() { ["p-lamp"] = Lamp, ["p-chair"] = Chair, ["p-mug"] = Mug };

    private void MapCatalog(WebApplication app)
    {
        app.MapGet("/api/v1/catalog/products", () => Results.Json(new { page = 1, pageSize = 24, totalCount = 3, totalPages = 1, items = Products.Values }));
        app.MapGet("/api/v1/catalog/products/{id}", (string id) => Products.TryGetValue(id, out var p) ? Results.Json(p) : Results.NotFound());
        app.MapGet("/api/v1/catalog/products/{id}/picture", (string id, HttpContext http) =>
        {
            http.Response.Headers.ETag = "\"pic-1\"";
            return Results.Text($"<svg xmlns=\"http://www.w3.org/2000/svg\"><title>{id}</title></svg>", "image/svg+xml");
        });
        app.MapGet("/api/v1/catalog/categories", () => Results.Json(new[] { new { name = "Furniture", productCount = 1 }, new { name = "Kitchen", productCount = 1 }, new { name = "Lighting", productCount = 1 } }));
        app.MapGet("/api/v1/catalog/brands", () => Results.Json(new[] { new { name = "Camp", productCount = 1 }, new { name = "Lumo", productCount = 1 }, new { name = "Sitwell", productCount = 1 } }));
    }

    private void MapBasket(WebApplication app)
    {
        BasketDto Of(string shopperId) => new(shopperId, [.. Baskets.GetValueOrDefault(shopperId) ?? []], DateTimeOffset.UtcNow);
        app.MapGet("/api/v1/baskets/{shopperId}", (string shopperId) => Results.Json(Of(shopperId)));
        app.MapPost("/api/v1/baskets/{shopperId}/items", (string shopperId, BasketItemDto item) =>
        {
            if (!Products.ContainsKey(item.ProductId))
            {
                return Results.Problem(statusCode: 422, title: "Unknown product");
            }
            var lines = Baskets.GetOrAdd(shopperId, _ => []);
            lock (lines)
            {
                var index = lines.FindIndex(l => l.ProductId == item.ProductId);
                var quantity = item.Quantity + (index >= 0 ? lines[index].Quantity : 0);
                if (quantity > 99)
                {
                    return Results.ValidationProblem(new Dictionary<string, string[]> { ["quantity"] = ["at most 99"] });
                }
                if (index >= 0)
                {
                    lines[index] = new BasketItemDto(item.ProductId, quantity);
                }
                else
                {
                    lines.Add(item);
                }
            }
            return Results.Json(Of(shopperId));
        });
        app.MapPost("/api/v1/baskets/{shopperId}/merge/{anonymousShopperId}", (string shopperId, string anonymousShopperId) =>
        {
            var merged = Baskets.GetOrAdd(shopperId, _ => []);
            if (Baskets.TryRemove(anonymousShopperId, out var anonymous))
            {
                merged.AddRange(anonymous);
            }
            return Results.Json(Of(shopperId));
        });
    }

    private void MapOrdering(WebApplication app)
    {
        app.Use(async (http, next) =>
        {
            if (OrderingFailure is { } failure)
            {
                http.Response.StatusCode = (int)failure;
                return;
            }
            await next(http);
        });
        app.MapPost("/api/v1/orders", (HttpContext http) =>
        {
            var key = http.Request.Headers["Idempotency-Key"].ToString();
            Orders.TryAdd(key, OrderJson(key, "ada", "AwaitingPaymentConfirmation", ["Submitted", "StockReserved", "AwaitingPaymentConfirmation"], null));
            return Results.Accepted($"/api/v1/orders/{key}", new { orderId = key });
        });
        app.MapGet("/api/v1/orders/{orderId}", (string orderId) => Orders.TryGetValue(orderId, out var order) ? Results.Json(order) : Results.NotFound());
        app.MapGet("/api/v1/shoppers/{shopperId}/orders", (string shopperId) => Results.Json(Array.Empty<object>()));
    }

    /// <summary>An order as ordering's <c>GET /api/v1/orders/{id}</c> answers it.</summary>
    public static object OrderJson(string orderId, string shopperId, string status, string[] timeline, string? failureReason) => new
    {
        orderId,
        shopperId,
        status,
        timeline = timeline.Select((s, i) => new { status = s, at = new DateTimeOffset(2030, 1, 1, 12, 0, i, TimeSpan.Zero) }),
        lines = new[] { new { productId = "p-lamp", name = "Desk Lamp", quantity = 2, unitPrice = new { amount = 4_990, currency = "EUR" } } },
        total = new { amount = 9_980, currency = "EUR" },
        failureReason,
        shippingAddress = new { name = "Ada Lovelace", line1 = "1 Main Street", line2 = (string?)null, city = "London", postalCode = "N1 1AA", country = "GB" },
        submittedAt = new DateTimeOffset(2030, 1, 1, 12, 0, 0, TimeSpan.Zero),
    };

    /// <summary>A browser without JavaScript: keeps cookies, does not follow redirects (tests look at them).</summary>
    public HttpClient CreateBrowser() =>
        new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = App.AppEndpoint, Timeout = TimeSpan.FromSeconds(30) };

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();

    /// <summary>Loads a page and posts one of its forms as a browser would: the page's antiforgery token plus <paramref name="fields"/>.</summary>
    public static async Task<HttpResponseMessage> PostFormAsync(HttpClient browser, string pageUrl, string action, IEnumerable<KeyValuePair<string, string>> fields)
    {
        var page = await browser.GetStringAsync(pageUrl);
        var token = AntiforgeryToken().Match(page);
        if (!token.Success)
        {
            throw new InvalidOperationException($"{pageUrl} has no form with an antiforgery token:\n{page}");
        }
        return await browser.PostAsync(action, new FormUrlEncodedContent([new("__RequestVerificationToken", token.Groups[1].Value), .. fields]));
    }

    public static async Task<HttpResponseMessage> SignInAsync(HttpClient browser, string email, string password, string returnUrl = "/")
    {
        var page = "/account/signin?returnUrl=" + Uri.EscapeDataString(returnUrl);
        return await PostFormAsync(browser, page, page, [new("_handler", "signin"), new("Input.Email", email), new("Input.Password", password)]);
    }

    public async ValueTask DisposeAsync()
    {
        if (App is not null)
        {
            await App.DisposeAsync();
        }
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }
        _mesh.Dispose();
    }
}
