using DaprShop.Contracts;

namespace DaprShop.Storefront.Services;

/// <summary>The basket service's public API, through Dapr service invocation. The basket keeps quantities only.</summary>
public sealed class BasketClient(HttpClient http, ILogger<BasketClient> logger)
{
    public const string Service = AppIds.Basket;

    public async Task<BasketDto> GetAsync(string shopperId, CancellationToken cancellationToken = default) =>
        await ServiceCall.GetAsync<BasketDto>(http, Service, Path(shopperId), logger, cancellationToken)
        ?? new BasketDto(shopperId, [], DateTimeOffset.MinValue);

    public Task<ChangeResult<BasketDto>> AddAsync(string shopperId, string productId, int quantity, CancellationToken cancellationToken = default) =>
        ServiceCall.ChangeAsync<BasketDto>(http, Service, ServiceCall.JsonRequest(HttpMethod.Post, Path(shopperId) + "/items", new AddBasketItem(productId, quantity)), logger, cancellationToken);

    public Task<ChangeResult<BasketDto>> SetQuantityAsync(string shopperId, string productId, int quantity, CancellationToken cancellationToken = default) =>
        ServiceCall.ChangeAsync<BasketDto>(http, Service, ServiceCall.JsonRequest(HttpMethod.Put, $"{Path(shopperId)}/items/{Uri.EscapeDataString(productId)}", new SetBasketItemQuantity(quantity)), logger, cancellationToken);

    public Task<ChangeResult<BasketDto>> RemoveAsync(string shopperId, string productId, CancellationToken cancellationToken = default) =>
        ServiceCall.ChangeAsync<BasketDto>(http, Service, new HttpRequestMessage(HttpMethod.Delete, $"{Path(shopperId)}/items/{Uri.EscapeDataString(productId)}"), logger, cancellationToken);

    /// <summary>At sign-in: the anonymous basket's lines join the shopper's (the basket makes a retry harmless).</summary>
    public Task<ChangeResult<BasketDto>> MergeAsync(string shopperId, string anonymousShopperId, CancellationToken cancellationToken = default) =>
        ServiceCall.ChangeAsync<BasketDto>(http, Service, new HttpRequestMessage(HttpMethod.Post, $"{Path(shopperId)}/merge/{Uri.EscapeDataString(anonymousShopperId)}"), logger, cancellationToken);

    private static string Path(string shopperId) => $"api/v1/baskets/{Uri.EscapeDataString(shopperId)}";
}
