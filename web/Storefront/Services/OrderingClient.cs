using DaprShop.Contracts;

namespace DaprShop.Storefront.Services;

/// <summary>Ordering's public and back-office API, through Dapr service invocation.</summary>
public sealed class OrderingClient(HttpClient http, ILogger<OrderingClient> logger)
{
    public const string Service = AppIds.Ordering;
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>Starts the checkout saga. The same key names the same order, so a repeated submit never orders twice.</summary>
    public Task<ChangeResult<CheckoutAccepted>> CheckoutAsync(CheckoutRequest checkout, string idempotencyKey, CancellationToken cancellationToken = default)
    {
        var request = ServiceCall.JsonRequest(HttpMethod.Post, "api/v1/orders", checkout);
        request.Headers.Add(IdempotencyKeyHeader, idempotencyKey);
        return ServiceCall.ChangeAsync<CheckoutAccepted>(http, Service, request, logger, cancellationToken);
    }

    public Task<OrderView?> GetOrderAsync(string orderId, CancellationToken cancellationToken = default) =>
        ServiceCall.GetAsync<OrderView>(http, Service, $"api/v1/orders/{Uri.EscapeDataString(orderId)}", logger, cancellationToken);

    public async Task<IReadOnlyList<OrderSummary>> GetHistoryAsync(string shopperId, CancellationToken cancellationToken = default) =>
        await ServiceCall.GetAsync<List<OrderSummary>>(http, Service, $"api/v1/shoppers/{Uri.EscapeDataString(shopperId)}/orders", logger, cancellationToken) ?? [];

    public Task<OrderListPage> ListAsync(OrderStatus? status, int page, int pageSize, CancellationToken cancellationToken = default) =>
        ServiceCall.GetRequiredAsync<OrderListPage>(http, Service,
            $"api/v1/orders?page={page}&pageSize={pageSize}" + (status is { } s ? "&status=" + s : ""), logger, cancellationToken);

    public Task<ChangeResult<object>> CancelAsync(string orderId, string reason, CancellationToken cancellationToken = default) =>
        ServiceCall.ChangeAsync<object>(http, Service, ServiceCall.JsonRequest(HttpMethod.Post, $"api/v1/orders/{Uri.EscapeDataString(orderId)}/cancel", new CancelRequest(reason)), logger, cancellationToken);

    /// <summary>Asks ordering to re-check a payment whose confirmation never arrived (back office).</summary>
    public Task<ChangeResult<object>> RetryAsync(string orderId, CancellationToken cancellationToken = default) =>
        ServiceCall.ChangeAsync<object>(http, Service, new HttpRequestMessage(HttpMethod.Post, $"api/v1/orders/{Uri.EscapeDataString(orderId)}/retry"), logger, cancellationToken);
}
