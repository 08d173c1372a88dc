namespace DaprShop.Storefront.Shopping;

/// <summary>
/// Short messages shown after a form posted and redirected back. The query string carries a code, never text, so
/// nothing a visitor types ends up on someone else's screen.
/// </summary>
public static class Notices
{
    public const string Parameter = "notice";

    private static readonly Dictionary<string, (string Text, bool Problem)> Known = new(StringComparer.Ordinal)
    {
        ["added"] = ("Added to your basket.", false),
        ["updated"] = ("Your basket is updated.", false),
        ["removed"] = ("Removed from your basket.", false),
        ["refused"] = ("That quantity is not possible: a line holds 1 to 99 items and a basket up to 50 products.", true),
        ["unknown-product"] = ("That product is no longer in the catalogue.", true),
        ["basket-unavailable"] = ("Your basket cannot be reached right now, so nothing was changed. Please try again in a moment.", true),
        ["merge-failed"] = ("You are signed in, but the items you added before signing in could not be moved to your basket yet. They are kept: sign out and in again to retry.", true),
        ["signed-out"] = ("You are signed out.", false),
        ["saved"] = ("Saved.", false),
    };

    public static (string Text, bool Problem)? Find(string? code) => code is not null && Known.TryGetValue(code, out var notice) ? notice : null;

    /// <summary>A local URL (anything else becomes "/") with the notice code set, replacing any earlier one.</summary>
    public static string Redirect(string? returnUrl, string code)
    {
        var url = LocalOrHome(returnUrl);
        var fragmentless = url.Split('#')[0];
        var parts = fragmentless.Split('?', 2);
        var kept = parts.Length == 2
            ? parts[1].Split('&', StringSplitOptions.RemoveEmptyEntries).Where(p => !p.StartsWith(Parameter + "=", StringComparison.Ordinal))
            : [];
        var query = string.Join('&', kept.Append($"{Parameter}={Uri.EscapeDataString(code)}"));
        return parts[0] + "?" + query;
    }

    /// <summary>Only paths of this site: no scheme, no host, no protocol-relative or backslash tricks.</summary>
    public static string LocalOrHome(string? url) =>
        !string.IsNullOrEmpty(url) && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\')) && !url.Contains("\\", StringComparison.Ordinal) && !url.Any(char.IsControl)
            ? url
            : "/";
}
