using System.Globalization;
using System.Text;

namespace DaprShop.Catalog.Search;

public enum ListingSort { Relevance, Price, PriceDescending, Name, Newest }

/// <summary>
/// A validated listing request. Parsed from the raw query strings so that a bad value is reported by its field
/// name in an RFC 7807 answer rather than as a generic binding failure.
/// </summary>
public sealed record ListingQuery(
    string? Text,
    string? Category,
    string? Brand,
    long? MinPrice,
    long? MaxPrice,
    bool? InStock,
    ListingSort Sort,
    int Page,
    int PageSize)
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;
    public const int MaxTextLength = 200;

    public static Dictionary<string, string[]> TryParse(
        string? q, string? category, string? brand, string? minPrice, string? maxPrice, string? inStock, string? sort, string? page, string? pageSize,
        out ListingQuery? query)
    {
        var errors = new Dictionary<string, string[]>();
        query = null;
        var text = string.IsNullOrWhiteSpace(q) ? null : q.Trim();
        if (text?.Length > MaxTextLength)
        {
            errors["q"] = [$"must be at most {MaxTextLength} characters"];
        }
        var min = ParseLong(errors, "minPrice", minPrice);
        var max = ParseLong(errors, "maxPrice", maxPrice);
        if (min is < 0)
        {
            errors["minPrice"] = ["must not be negative (minor units)"];
        }
        if (max is < 0)
        {
            errors["maxPrice"] = ["must not be negative (minor units)"];
        }
        if (min is { } lo && max is { } hi && lo > hi && !errors.ContainsKey("maxPrice"))
        {
            errors["maxPrice"] = ["must not be less than minPrice"];
        }
        bool? stock = null;
        if (!string.IsNullOrWhiteSpace(inStock))
        {
            if (bool.TryParse(inStock, out var b))
            {
                stock = b;
            }
            else
            {
                errors["inStock"] = ["must be true or false"];
            }
        }
        var order = text is null ? ListingSort.Name : ListingSort.Relevance;
        if (!string.IsNullOrWhiteSpace(sort))
        {
            switch (sort.Trim().ToLowerInvariant())
            {
                case "relevance": order = ListingSort.Relevance; break;
                case "price": order = ListingSort.Price; break;
                case "-price": order = ListingSort.PriceDescending; break;
                case "name": order = ListingSort.Name; break;
                case "newest": order = ListingSort.Newest; break;
                default: errors["sort"] = ["must be one of relevance, price, -price, name, newest"]; break;
            }
        }
        var pageNumber = ParseInt(errors, "page", page) ?? 1;
        if (pageNumber < 1 && !errors.ContainsKey("page"))
        {
            errors["page"] = ["must be 1 or more"];
        }
        var size = ParseInt(errors, "pageSize", pageSize) ?? DefaultPageSize;
        if ((size < 1 || size > MaxPageSize) && !errors.ContainsKey("pageSize"))
        {
            errors["pageSize"] = [$"must be between 1 and {MaxPageSize}"];
        }
        if (errors.Count == 0)
        {
            query = new ListingQuery(text, Blank(category), Blank(brand), min, max, stock, order, pageNumber, size);
        }
        return errors;
    }

    /// <summary>One cache key per distinct listing, whatever the order or case of the query string.</summary>
    public string CacheKey()
    {
        var key = new StringBuilder();
        key.Append("q=").Append(Uri.EscapeDataString(Text?.ToLowerInvariant() ?? ""))
            .Append("&c=").Append(Uri.EscapeDataString(Category?.ToLowerInvariant() ?? ""))
            .Append("&b=").Append(Uri.EscapeDataString(Brand?.ToLowerInvariant() ?? ""))
            .Append("&min=").Append(MinPrice?.ToString(CultureInfo.InvariantCulture))
            .Append("&max=").Append(MaxPrice?.ToString(CultureInfo.InvariantCulture))
            .Append("&stock=").Append(InStock?.ToString(CultureInfo.InvariantCulture))
            .Append("&sort=").Append(Sort)
            .Append("&page=").Append(Page.ToString(CultureInfo.InvariantCulture))
            .Append("&size=").Append(PageSize.ToString(CultureInfo.InvariantCulture));
        return key.ToString();
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static long? ParseLong(Dictionary<string, string[]> errors, string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        if (long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
        {
            return n;
        }
        errors[field] = ["must be a whole number of minor units"];
        return null;
    }

    private static int? ParseInt(Dictionary<string, string[]> errors, string field, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
        {
            return n;
        }
        errors[field] = ["must be a whole number"];
        return null;
    }
}
