using System.ComponentModel.DataAnnotations;

namespace DaprShop.Storefront.Accounts;

/// <summary>One configured account. Demo only: a real shop keeps accounts in an identity provider, not in settings.</summary>
public sealed class DemoAccount
{
    /// <summary>The sign-in name.</summary>
    [Required, EmailAddress]
    public string Email { get; set; } = "";

    [Required, StringLength(80)]
    public string DisplayName { get; set; } = "";

    /// <summary>The id the basket and ordering know the shopper by (ordering's alphabet: letters, digits, '-', '_').</summary>
    [Required, RegularExpression("^[A-Za-z0-9_-]{1,64}$")]
    public string ShopperId { get; set; } = "";

    /// <summary><c>pbkdf2-sha256$iterations$salt$hash</c>, see <see cref="PasswordHash"/>.</summary>
    [Required]
    public string PasswordHash { get; set; } = "";

    /// <summary>May use the back office (edit products and prices, see and act on every order).</summary>
    public bool BackOffice { get; set; }
}
