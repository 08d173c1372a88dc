using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text;
using DaprShop.Contracts;
using DaprShop.Storefront.Services;
using DaprShop.Storefront.Shopping;

namespace DaprShop.Storefront.BackOffice;

/// <summary>
/// A product as the back office edits it: the price in major units (19.99), details as "name: value" lines, and the
/// version it was read at (the catalog's ETag), so saving over someone else's change is refused rather than lost.
/// </summary>
public sealed class ProductForm
{
    [Required(ErrorMessage = "Enter the product's name."), StringLength(120, ErrorMessage = "Keep the name under 120 characters.")]
    public string? Name { get; set; }

    [StringLength(2000, ErrorMessage = "Keep the description under 2,000 characters.")]
    public string? Description { get; set; }

    [Required(ErrorMessage = "Enter the category."), StringLength(60, ErrorMessage = "Keep the category under 60 characters.")]
    public string? Category { get; set; }

    [Required(ErrorMessage = "Enter the brand."), StringLength(60, ErrorMessage = "Keep the brand under 60 characters.")]
    public string? Brand { get; set; }

    [Required(ErrorMessage = "Enter the price.")]
    [Range(typeof(decimal), "0.01", "1000000", ParseLimitsInInvariantCulture = true, ConvertValueInInvariantCulture = true, ErrorMessage = "Enter a price from 0.01 to 1,000,000.")]
    public decimal? Price { get; set; }

    /// <summary>One "name: value" per line.</summary>
    [StringLength(6000)]
    public string? Details { get; set; }

    /// <summary>The catalog version this form was filled from (If-Match).</summary>
    public string? ETag { get; set; }

    public static ProductForm From(ProductDto product, string? etag) => new()
    {
        Name = product.Name,
        Description = product.Description,
        Category = product.Category,
        Brand = product.Brand,
        Price = PriceFormatter.ToMajor(product.Price.Amount, product.Price.Currency),
        Details = string.Join('\n', product.Attributes.OrderBy(a => a.Key, StringComparer.OrdinalIgnoreCase).Select(a => $"{a.Key}: {a.Value}")),
        ETag = etag,
    };

    /// <summary>The catalog's input, or the lines of <see cref="Details"/> that are not "name: value".</summary>
    public ProductInput ToInput(string currency, out IReadOnlyList<int> badDetailLines)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        var bad = new List<int>();
        var lines = (Details ?? "").Replace("\r", "", StringComparison.Ordinal).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i]))
            {
                continue;
            }
            var colon = lines[i].IndexOf(':', StringComparison.Ordinal);
            var key = colon > 0 ? lines[i][..colon].Trim() : "";
            if (key.Length == 0)
            {
                bad.Add(i + 1);
                continue;
            }
            attributes[key] = lines[i][(colon + 1)..].Trim();
        }
        badDetailLines = bad;
        return new ProductInput(Name?.Trim() ?? "", Description?.Trim() ?? "", Category?.Trim() ?? "", Brand?.Trim() ?? "",
            new PriceInput(PriceFormatter.ToMinor(Price ?? 0, currency) ?? 0, currency), attributes);
    }

    /// <summary>Which form field a field named in the catalog's validation problem belongs to (null: the form as a whole).</summary>
    public static string? FieldOf(string apiField) => apiField.ToLowerInvariant() switch
    {
        "name" => nameof(Name),
        "description" => nameof(Description),
        "category" => nameof(Category),
        "brand" => nameof(Brand),
        "price" or "price.amount" or "price.currency" or "amount" or "currency" => nameof(Price),
        var f when f.StartsWith("attributes", StringComparison.Ordinal) => nameof(Details),
        _ => null,
    };

    public static string Describe(IReadOnlyList<int> lines)
    {
        var text = new StringBuilder(lines.Count == 1 ? "Line " : "Lines ");
        text.AppendJoin(", ", lines.Select(l => l.ToString(CultureInfo.InvariantCulture)));
        return text.Append(" must read \"name: value\".").ToString();
    }
}
