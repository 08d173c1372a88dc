using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace DaprShop.Catalog.Products;

/// <summary>
/// Every product's picture is a small SVG drawn from its id, name and category, so no binary assets ship with the
/// repository and the same product always gets the same picture (which makes it cacheable by browsers and CDNs).
/// </summary>
public static class ProductPicture
{
    private static readonly string[] Palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#3949ab", "#00897b"];

    public static string Svg(Product product)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(product.Category));
        var background = Palette[hash[0] % Palette.Length];
        var accent = Palette[(hash[1] + product.Id.Length + product.Name.Length) % Palette.Length];
        var initials = string.Concat(product.Name.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(2).Select(w => char.ToUpperInvariant(w[0])));
        var shape = (int)(uint.Parse(new string([.. product.Id.Where(char.IsDigit).DefaultIfEmpty('0')]), CultureInfo.InvariantCulture) % 3);
        var figure = shape switch
        {
            0 => $"<circle cx=\"200\" cy=\"170\" r=\"90\" fill=\"{accent}\" opacity=\"0.85\"/>",
            1 => $"<rect x=\"110\" y=\"80\" width=\"180\" height=\"180\" rx=\"24\" fill=\"{accent}\" opacity=\"0.85\"/>",
            _ => $"<polygon points=\"200,70 300,260 100,260\" fill=\"{accent}\" opacity=\"0.85\"/>",
        };
        return $"""
            <svg xmlns="http://www.w3.org/2000/svg" width="400" height="400" viewBox="0 0 400 400" role="img" aria-label="{WebUtility.HtmlEncode(product.Name)}">
            <rect width="400" height="400" fill="{background}"/>
            {figure}
            <text x="200" y="190" font-family="sans-serif" font-size="64" font-weight="bold" fill="#ffffff" text-anchor="middle">{WebUtility.HtmlEncode(initials)}</text>
            <text x="200" y="330" font-family="sans-serif" font-size="20" fill="#ffffff" text-anchor="middle">{WebUtility.HtmlEncode(product.Name)}</text>
            <text x="200" y="360" font-family="sans-serif" font-size="16" fill="#ffffff" opacity="0.8" text-anchor="middle">{WebUtility.HtmlEncode(product.Category)}</text>
            </svg>
            """;
    }

    /// <summary>The picture changes only with what it draws from.</summary>
    public static string ETag(Product product) =>
        "\"" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{product.Id}|{product.Name}|{product.Category}")))[..16] + "\"";
}
