using DaprShop.Contracts;

namespace DaprShop.Catalog.Products;

/// <summary>
/// A product as the catalog stores it (<c>product:{id}</c> in the state store). <see cref="Version"/> counts the
/// changes and is the ETag clients send back in <c>If-Match</c>; <see cref="AvailabilityAt"/> orders inventory events.
/// </summary>
public sealed record Product(
    string Id,
    string Name,
    string Description,
    string Category,
    string Brand,
    Money Price,
    IReadOnlyDictionary<string, string> Attributes,
    bool Available,
    DateTimeOffset CreatedAt,
    long Version,
    DateTimeOffset? AvailabilityAt = null)
{
    public static string PictureUrl(string id) => $"/api/v1/catalog/products/{Uri.EscapeDataString(id)}/picture";

    public string ETag => $"\"{Version}\"";

    public ProductDto ToDto() => new(Id, Name, Description, Category, Brand, Price, PictureUrl(Id), Attributes, Available);

    public Product Replace(ValidProduct input) => this with
    {
        Name = input.Name,
        Description = input.Description,
        Category = input.Category,
        Brand = input.Brand,
        Price = input.Price,
        Attributes = input.Attributes,
        Version = Version + 1,
    };

    public Product WithPrice(Money price) => this with { Price = price, Version = Version + 1 };

    /// <summary>Inventory events can arrive out of order: an older one never overrides a newer one.</summary>
    public Product? WithAvailability(bool available, DateTimeOffset at) =>
        AvailabilityAt is { } last && at <= last
            ? null
            : this with { Available = available, AvailabilityAt = at, Version = Version + 1 };
}
