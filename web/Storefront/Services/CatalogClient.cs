using DaprShop.Contracts;
using DaprShop.Storefront.Shopping;

namespace DaprShop.Storefront.Services;

/// <summary>The catalog's public and back-office API, through Dapr service invocation.</summary>
public sealed class CatalogClient(HttpClient http, ILogger<CatalogClient> logger)
{
    public const string Service = AppIds.Catalog;

    public Task<CatalogPage> ListAsync(CatalogQuery query, int pageSize, string currency, CancellationToken cancellationToken = default) =>
        ServiceCall.GetRequiredAsync<CatalogPage>(http, Service, "api/v1/catalog/products?" + query.ToApiQuery(pageSize, currency), logger, cancellationToken);

    public Task<ProductDto?> GetProductAsync(string productId, CancellationToken cancellationToken = default) =>
        ServiceCall.GetAsync<ProductDto>(http, Service, $"api/v1/catalog/products/{Uri.EscapeDataString(productId)}", logger, cancellationToken);

    /// <summary>The product with its version (ETag), which the back office sends back in If-Match.</summary>
    public async Task<(ProductDto? Product, string? ETag)> GetProductForEditAsync(string productId, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"api/v1/catalog/products/{Uri.EscapeDataString(productId)}");
        var answer = await ServiceCall.ChangeAsync<ProductDto>(http, Service, request, logger, cancellationToken);
        return answer.Succeeded ? (answer.Value, answer.ETag) : answer.Status == 404 ? (null, null) : throw new ServiceUnavailableException(Service, $"catalog answered {answer.Status}");
    }

    public async Task<IReadOnlyList<Facet>> GetCategoriesAsync(CancellationToken cancellationToken = default) =>
        await ServiceCall.GetRequiredAsync<List<Facet>>(http, Service, "api/v1/catalog/categories", logger, cancellationToken);

    public async Task<IReadOnlyList<Facet>> GetBrandsAsync(CancellationToken cancellationToken = default) =>
        await ServiceCall.GetRequiredAsync<List<Facet>>(http, Service, "api/v1/catalog/brands", logger, cancellationToken);

    /// <summary>The product's picture as the catalog serves it (status, body, content type and ETag passed through).</summary>
    public async Task<Picture> GetPictureAsync(string productId, string? ifNoneMatch, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"api/v1/catalog/products/{Uri.EscapeDataString(productId)}/picture");
        if (!string.IsNullOrEmpty(ifNoneMatch))
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }
        using var response = await ServiceCall.SendAsync(http, Service, request, logger, cancellationToken);
        var body = response.IsSuccessStatusCode ? await response.Content.ReadAsByteArrayAsync(cancellationToken) : [];
        return new Picture((int)response.StatusCode, body, response.Content.Headers.ContentType?.MediaType, response.Headers.ETag?.ToString());
    }

    public Task<ChangeResult<ProductDto>> CreateAsync(ProductInput input, CancellationToken cancellationToken = default) =>
        ServiceCall.ChangeAsync<ProductDto>(http, Service, ServiceCall.JsonRequest(HttpMethod.Post, "api/v1/catalog/products", input), logger, cancellationToken);

    /// <summary>Replaces the product (price included); <paramref name="etag"/> turns a concurrent edit into a 412.</summary>
    public Task<ChangeResult<ProductDto>> UpdateAsync(string productId, ProductInput input, string? etag, CancellationToken cancellationToken = default)
    {
        var request = ServiceCall.JsonRequest(HttpMethod.Put, $"api/v1/catalog/products/{Uri.EscapeDataString(productId)}", input);
        if (!string.IsNullOrEmpty(etag))
        {
            request.Headers.TryAddWithoutValidation("If-Match", etag);
        }
        return ServiceCall.ChangeAsync<ProductDto>(http, Service, request, logger, cancellationToken);
    }

    public sealed record Picture(int Status, byte[] Body, string? ContentType, string? ETag);
}
