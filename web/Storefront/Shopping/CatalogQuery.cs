using System.Globalization;
using System.Text;

namespace DaprShop.Storefront.Shopping;

/// <summary>
/// What the catalog page shows, read from and written to its query string (so links, bookmarks and the back button
/// work). Reading is lenient: a value the shop cannot use is dropped rather than answered with an error page.
/// Prices are typed in major units (19.99) and sent to the catalog in minor units.
/// </summary>
public sealed record CatalogQuery(string? Text, string? Category, string? Brand, decimal? MinPrice, decimal? MaxPrice, string? Sort, int Page)
{
    public const int MaxTextLength = 200;

    /// <summary>The catalog's sort orders with what a shopper reads.</summary>
    public static readonly IReadOnlyList<(string Value, string Label)> Sorts =
    [
        ("relevance", "Best match"),
        ("name", "Name, A to Z"),
        ("price", "Price, low to high"),
        ("-price", "Price, high to low"),
        ("newest", "Newest first"),
    ];

    public static CatalogQuery Empty { get; } = new(null, null, null, null, null, null, 1);

    public static CatalogQuery From(string? q, string? category, string? brand, string? min, string? max, string? sort, string? page)
    {
        var text = Clean(q);
        if (text?.Length > MaxTextLength)
        {
            text = text[..MaxTextLength];
        }
        var low = Price(min);
        var high = Price(max);
        if (low is { } l && high is { } h && l > h)
        {
            (low, high) = (high, low);
        }
        var order = Clean(sort)?.ToLowerInvariant();
        if (order is not null && !Sorts.Any(s => s.Value == order))
        {
            order = null;
        }
        var number = int.TryParse(page, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is >= 1 and <= 10_000 ? p : 1;
        return new CatalogQuery(text, Clean(category), Clean(brand), low, high, order, number);
    }

    /// <summary>The sort in effect: the chosen one, else best match for a search and name for browsing (as the catalog does).</summary>
    public string EffectiveSort => Sort ?? (Text is null ? "name" : "relevance");

    public bool HasFilters => Text is not null || Category is not null || Brand is not null || MinPrice is not null || MaxPrice is not null;

    public CatalogQuery WithPage(int page) => this with { Page = Math.Max(1, page) };

    public CatalogQuery WithCategory(string? category) => this with { Category = Clean(category), Page = 1 };

    public CatalogQuery WithBrand(string? brand) => this with { Brand = Clean(brand), Page = 1 };

    /// <summary>The storefront link for this query: only what differs from the defaults, in a stable order.</summary>
    public string ToUrl(string path = "/catalog")
    {
        var query = new StringBuilder();
        Add(query, "q", Text);
        Add(query, "category", Category);
        Add(query, "brand", Brand);
        Add(query, "min", MinPrice?.ToString(CultureInfo.InvariantCulture));
        Add(query, "max", MaxPrice?.ToString(CultureInfo.InvariantCulture));
        Add(query, "sort", Sort);
        Add(query, "page", Page > 1 ? Page.ToString(CultureInfo.InvariantCulture) : null);
        return query.Length == 0 ? path : path + "?" + query;
    }

    /// <summary>The catalog API's query string (<c>GET /api/v1/catalog/products</c>): prices in minor units of <paramref name="currency"/>.</summary>
    public string ToApiQuery(int pageSize, string currency)
    {
        var query = new StringBuilder();
        Add(query, "q", Text);
        Add(query, "category", Category);
        Add(query, "brand", Brand);
        Add(query, "minPrice", MinPrice is { } min ? PriceFormatter.ToMinor(min, currency)?.ToString(CultureInfo.InvariantCulture) : null);
        Add(query, "maxPrice", MaxPrice is { } max ? PriceFormatter.ToMinor(max, currency)?.ToString(CultureInfo.InvariantCulture) : null);
        Add(query, "sort", Sort);
        Add(query, "page", Page.ToString(CultureInfo.InvariantCulture));
        Add(query, "pageSize", pageSize.ToString(CultureInfo.InvariantCulture));
        return query.ToString();
    }

    private static void Add(StringBuilder query, string name, string? value)
    {
        if (value is null)
        {
            return;
        }
        if (query.Length > 0)
        {
            query.Append('&');
        }
        query.Append(name).Append('=').Append(Uri.EscapeDataString(value));
    }

    private static string? Clean(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static decimal? Price(string? value) =>
        decimal.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var price) && price is >= 0 and <= 1_000_000
            ? decimal.Round(price, 2)
            : null;
}
