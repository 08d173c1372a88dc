using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DaprShop.Contracts;

namespace DaprShop.Testing;

// The shop's public answers as a client reads them off the wire (statuses are names). Only what the tests and the
// benchmarks look at; the services' own records stay theirs.

public sealed record CatalogPageView(int Page, int PageSize, int TotalCount, int TotalPages, IReadOnlyList<ProductDto> Items);

public sealed record ShopOrderStep(string Status, DateTimeOffset At);

public sealed record ShopOrder(
    string OrderId, string ShopperId, string Status, IReadOnlyList<ShopOrderStep> Timeline, IReadOnlyList<OrderLine> Lines, Money? Total, string? FailureReason)
{
    public bool IsFinished => Status is "Confirmed" or "Failed" or "Cancelled";
}

public sealed record ShopOrderSummary(string OrderId, string Status, Money? Total);

public sealed record ShopLedgerEntry(string Operation, string StatusAfter, Money Amount);

public sealed record ShopPayment(string PaymentId, string Status, string? Reason, Money Amount, IReadOnlyList<ShopLedgerEntry> Ledger);

/// <summary>
/// The shop's public APIs, called through one sidecar with Dapr service invocation (<c>/v1.0/invoke/{appId}/method/...</c>)
/// as the gateway calls them. Typed helpers throw on an unexpected answer, with its status and body.
/// </summary>
public sealed class ShopClient : IDisposable
{
    /// <summary>The payment provider's test card that is always approved at once.</summary>
    public const string ApprovingCard = "4242424242424242";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly Func<string>? _diagnostics;

    public ShopClient(Uri sidecar, HttpMessageHandler? handler = null, Func<string>? diagnostics = null)
    {
        Http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        Http.BaseAddress = sidecar;
        Http.Timeout = TimeSpan.FromSeconds(30);
        _diagnostics = diagnostics;
    }

    public HttpClient Http { get; }

    public static string Invoke(string appId, string path) => $"/v1.0/invoke/{appId}/method/{path}";

    // ---- catalog --------------------------------------------------------------------------------------------------

    /// <summary><paramref name="query"/> is the listing's query string without '?', e.g. <c>q=kettle&amp;pageSize=5</c>.</summary>
    public Task<CatalogPageView> ListProductsAsync(string query = "", CancellationToken cancellationToken = default) =>
        GetAsync<CatalogPageView>(Invoke(AppIds.Catalog, "api/v1/catalog/products" + (query.Length > 0 ? "?" + query : "")), cancellationToken);

    public Task<ProductDto> GetProductAsync(string productId, CancellationToken cancellationToken = default) =>
        GetAsync<ProductDto>(Invoke(AppIds.Catalog, $"api/v1/catalog/products/{Uri.EscapeDataString(productId)}"), cancellationToken);

    /// <summary>A new product through the back office; the catalog names it <c>p-NNNN</c>.</summary>
    public Task<ProductDto> CreateProductAsync(string name, string category, string brand, long priceAmount, CancellationToken cancellationToken = default) =>
        SendAsync<ProductDto>(HttpMethod.Post, Invoke(AppIds.Catalog, "api/v1/catalog/products"),
            new { name, description = $"{name}, made for the tests.", category, brand, price = new { amount = priceAmount, currency = "EUR" } },
            HttpStatusCode.Created, cancellationToken);

    // ---- basket ---------------------------------------------------------------------------------------------------

    public Task<BasketDto> AddToBasketAsync(string shopperId, string productId, int quantity, CancellationToken cancellationToken = default) =>
        SendAsync<BasketDto>(HttpMethod.Post, Invoke(AppIds.Basket, $"api/v1/baskets/{Uri.EscapeDataString(shopperId)}/items"),
            new { productId, quantity }, HttpStatusCode.OK, cancellationToken);

    public Task<BasketDto> GetBasketAsync(string shopperId, CancellationToken cancellationToken = default) =>
        GetAsync<BasketDto>(Invoke(AppIds.Basket, $"api/v1/baskets/{Uri.EscapeDataString(shopperId)}"), cancellationToken);

    // ---- ordering -------------------------------------------------------------------------------------------------

    public static object CheckoutBody(string shopperId, string card) => new
    {
        shopperId,
        email = $"{shopperId}@example.com",
        shippingAddress = new { name = "Ada Lovelace", line1 = "1 Main Street", city = "London", postalCode = "N1 1AA", country = "GB" },
        card = new { number = card, holder = "Ada Lovelace", expiry = "12/39", cvc = "123" },
    };

    /// <summary><c>POST /api/v1/orders</c> as the storefront sends it; the answer is the caller's to judge.</summary>
    public async Task<HttpResponseMessage> CheckoutAsync(string shopperId, string idempotencyKey, string card = ApprovingCard, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Invoke(AppIds.Ordering, "api/v1/orders")) { Content = JsonContent.Create(CheckoutBody(shopperId, card)) };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await Http.SendAsync(request, cancellationToken);
    }

    /// <summary>A checkout that must be accepted; returns the order id.</summary>
    public async Task<string> PlaceOrderAsync(string shopperId, string idempotencyKey, string card = ApprovingCard, CancellationToken cancellationToken = default)
    {
        using var response = await CheckoutAsync(shopperId, idempotencyKey, card, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw await UnexpectedAsync(response, "POST /api/v1/orders");
        }
        var accepted = await response.Content.ReadFromJsonAsync<JsonElement>(Json, cancellationToken);
        return accepted.GetProperty("orderId").GetString()!;
    }

    public async Task<ShopOrder?> GetOrderAsync(string orderId, CancellationToken cancellationToken = default)
    {
        using var response = await Http.GetAsync(Invoke(AppIds.Ordering, $"api/v1/orders/{Uri.EscapeDataString(orderId)}"), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        return response.IsSuccessStatusCode
            ? await response.Content.ReadFromJsonAsync<ShopOrder>(Json, cancellationToken)
            : throw await UnexpectedAsync(response, $"GET order {orderId}");
    }

    /// <summary>
    /// Polls the order until the saga has finished it (confirmed, failed or cancelled) and returns it. The polls space
    /// out (100 ms up to 500 ms), so that many waiting shoppers do not load the machine more than their checkouts do.
    /// </summary>
    public async Task<ShopOrder> WaitForOrderAsync(string orderId, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        var delay = TimeSpan.FromMilliseconds(100);
        ShopOrder? order = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                order = await GetOrderAsync(orderId, cancellationToken);
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                // Ordering may be restarting: its sidecar answers 5xx until the app is back.
            }
            if (order is { IsFinished: true })
            {
                return order;
            }
            await Task.Delay(delay, cancellationToken);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 1.5, 500));
        }
        throw new TimeoutException($"order {orderId} is {order?.Status ?? "unknown"} after {timeout ?? TimeSpan.FromSeconds(60)}{Environment.NewLine}{_diagnostics?.Invoke()}");
    }

    public Task<IReadOnlyList<ShopOrderSummary>> GetOrderHistoryAsync(string shopperId, CancellationToken cancellationToken = default) =>
        GetAsync<IReadOnlyList<ShopOrderSummary>>(Invoke(AppIds.Ordering, $"api/v1/shoppers/{Uri.EscapeDataString(shopperId)}/orders"), cancellationToken);

    // ---- inventory ------------------------------------------------------------------------------------------------

    public Task<StockDto> GetStockAsync(string productId, CancellationToken cancellationToken = default) =>
        GetAsync<StockDto>(Invoke(AppIds.Inventory, $"api/v1/inventory/{Uri.EscapeDataString(productId)}"), cancellationToken);

    /// <summary>The back office's restock: adds <paramref name="quantity"/> units on hand.</summary>
    public Task<StockDto> RestockAsync(string productId, int quantity, CancellationToken cancellationToken = default) =>
        SendAsync<StockDto>(HttpMethod.Post, Invoke(AppIds.Inventory, $"api/v1/inventory/{Uri.EscapeDataString(productId)}/restock"),
            new { quantity }, HttpStatusCode.OK, cancellationToken);

    // ---- payment (the provider's back office) ---------------------------------------------------------------------

    public async Task<ShopPayment?> GetPaymentAsync(string paymentId, CancellationToken cancellationToken = default)
    {
        using var response = await Http.GetAsync(Invoke(AppIds.Payment, $"internal/payments/{Uri.EscapeDataString(paymentId)}"), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        return response.IsSuccessStatusCode
            ? await response.Content.ReadFromJsonAsync<ShopPayment>(Json, cancellationToken)
            : throw await UnexpectedAsync(response, $"GET payment {paymentId}");
    }

    // ---- plumbing -------------------------------------------------------------------------------------------------

    private async Task<T> GetAsync<T>(string uri, CancellationToken cancellationToken)
    {
        using var response = await Http.GetAsync(uri, cancellationToken);
        return response.IsSuccessStatusCode
            ? (await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken))!
            : throw await UnexpectedAsync(response, "GET " + uri);
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string uri, object body, HttpStatusCode expected, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, uri) { Content = JsonContent.Create(body) };
        using var response = await Http.SendAsync(request, cancellationToken);
        return response.StatusCode == expected
            ? (await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken))!
            : throw await UnexpectedAsync(response, $"{method} {uri}");
    }

    private static async Task<HttpRequestException> UnexpectedAsync(HttpResponseMessage response, string what) =>
        new($"{what} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}", null, response.StatusCode);

    public void Dispose() => Http.Dispose();
}
