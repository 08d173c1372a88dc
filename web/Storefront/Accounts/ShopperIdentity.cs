using System.Security.Claims;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;

namespace DaprShop.Storefront.Accounts;

/// <summary>Who is shopping: a signed-in account, or an anonymous shopper known by a cookie.</summary>
public sealed record Shopper(string ShopperId, bool SignedIn, string? Name, string? Email, bool BackOffice)
{
    public static Shopper? FromPrincipal(ClaimsPrincipal user) =>
        user.Identity?.IsAuthenticated == true && user.FindFirstValue(ClaimTypes.NameIdentifier) is { } id
            ? new Shopper(id, true, user.FindFirstValue(ClaimTypes.Name), user.FindFirstValue(ClaimTypes.Email), user.IsInRole(ShopperIdentity.BackOfficeRole))
            : null;
}

public static partial class ShopperIdentity
{
    public const string Scheme = CookieAuthenticationDefaults.AuthenticationScheme;
    public const string BackOfficeRole = "BackOffice";
    public const string AnonymousCookie = "daprshop-shopper";
    public const string AnonymousPrefix = "anon-";
    private const string ItemKey = "daprshop.anonymous-shopper";

    [GeneratedRegex("^anon-[0-9a-f]{32}$")]
    private static partial Regex AnonymousId();

    public static bool IsAnonymousId(string? value) => value is not null && AnonymousId().IsMatch(value);

    public static string NewAnonymousId() => AnonymousPrefix + Guid.NewGuid().ToString("N");

    public static ClaimsPrincipal PrincipalOf(DemoAccount account)
    {
        List<Claim> claims =
        [
            new(ClaimTypes.NameIdentifier, account.ShopperId),
            new(ClaimTypes.Name, account.DisplayName),
            new(ClaimTypes.Email, account.Email),
        ];
        if (account.BackOffice)
        {
            claims.Add(new Claim(ClaimTypes.Role, BackOfficeRole));
        }
        return new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme));
    }

    /// <summary>The current shopper of a request: the account when signed in, else the anonymous id of the cookie.</summary>
    public static Shopper Shopper(this HttpContext http) =>
        Storefront.Accounts.Shopper.FromPrincipal(http.User) ?? new Shopper(AnonymousShopperId(http), false, null, null, false);

    /// <summary>The anonymous shopper id of this browser (kept after sign-in, so the basket can be merged and found again).</summary>
    public static string AnonymousShopperId(HttpContext http) =>
        http.Items[ItemKey] as string ?? (IsAnonymousId(http.Request.Cookies[AnonymousCookie]) ? http.Request.Cookies[AnonymousCookie]! : EnsureAnonymousCookie(http));

    /// <summary>
    /// Gives a browser without one an anonymous shopper id, so it can fill a basket before signing in. Only page and
    /// form requests need it: framework files, pictures and health probes are left alone.
    /// </summary>
    public static IApplicationBuilder UseAnonymousShopper(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        var path = http.Request.Path.Value ?? "/";
        if (!path.StartsWith("/_", StringComparison.Ordinal) && !Path.HasExtension(path)
            && !path.StartsWith("/health", StringComparison.Ordinal) && !path.StartsWith("/alive", StringComparison.Ordinal)
            && !path.StartsWith("/pictures/", StringComparison.Ordinal) && !IsAnonymousId(http.Request.Cookies[AnonymousCookie]))
        {
            EnsureAnonymousCookie(http);
        }
        await next(http);
    });

    private static string EnsureAnonymousCookie(HttpContext http)
    {
        if (http.Items[ItemKey] is string known)
        {
            return known;
        }
        var id = NewAnonymousId();
        http.Items[ItemKey] = id;
        if (!http.Response.HasStarted)
        {
            http.Response.Cookies.Append(AnonymousCookie, id, new CookieOptions
            {
                HttpOnly = true,
                IsEssential = true,
                SameSite = SameSiteMode.Lax,
                Secure = http.Request.IsHttps,
                MaxAge = TimeSpan.FromDays(30),
            });
        }
        return id;
    }
}

/// <summary>The configured accounts, looked up by e-mail.</summary>
public sealed class AccountDirectory(IOptions<StorefrontOptions> options)
{
    // Compared against when the e-mail is unknown, so an unknown e-mail takes as long as a wrong password.
    private static readonly string Decoy = PasswordHash.Create("decoy", 100_000);

    public DemoAccount? SignIn(string email, string password)
    {
        var account = options.Value.Accounts.FirstOrDefault(a => string.Equals(a.Email, email.Trim(), StringComparison.OrdinalIgnoreCase));
        var valid = PasswordHash.Verify(password, account?.PasswordHash ?? Decoy);
        return account is not null && valid ? account : null;
    }
}
