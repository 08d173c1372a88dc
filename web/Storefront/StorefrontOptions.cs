using System.ComponentModel.DataAnnotations;
using System.Globalization;
using DaprShop.Storefront.Accounts;
using Microsoft.Extensions.Options;

namespace DaprShop.Storefront;

/// <summary>The <c>Storefront</c> configuration section.</summary>
public sealed class StorefrontOptions
{
    public const string Section = "Storefront";

    /// <summary>The culture prices, numbers and dates are shown in (the currency comes with each price).</summary>
    [Required]
    public string Culture { get; set; } = "en-IE";

    /// <summary>The currency the catalog sells in: price filters typed in major units are sent in its minor units.</summary>
    [Required, RegularExpression("^[A-Z]{3}$")]
    public string Currency { get; set; } = "EUR";

    /// <summary>How long a call to a service may take before the page says the service is unavailable.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan ServiceTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the order page asks ordering for the order's status while the checkout runs.</summary>
    [Range(typeof(TimeSpan), "00:00:00.200", "00:00:30")]
    public TimeSpan OrderRefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    [Range(1, 48)]
    public int FeaturedProducts { get; set; } = 8;

    [Range(1, 100)]
    public int PageSize { get; set; } = 24;

    /// <summary>Shown on the sign-in page as plain text (the demo lists its accounts there; leave empty in a real shop).</summary>
    [StringLength(500)]
    public string? SignInHint { get; set; }

    /// <summary>The demo accounts (see docs/storefront.md): passwords are stored as PBKDF2 hashes.</summary>
    public List<DemoAccount> Accounts { get; set; } = [];
}

/// <summary>What data annotations cannot say: the culture exists and every account is valid and unique.</summary>
internal sealed class StorefrontOptionsValidator : IValidateOptions<StorefrontOptions>
{
    public ValidateOptionsResult Validate(string? name, StorefrontOptions options)
    {
        var failures = new List<string>();
        try
        {
            _ = CultureInfo.GetCultureInfo(options.Culture, predefinedOnly: true);
        }
        catch (CultureNotFoundException)
        {
            failures.Add($"Storefront:Culture '{options.Culture}' is not a known culture.");
        }
        if (options.Accounts.Count == 0)
        {
            failures.Add("Storefront:Accounts must list at least one account.");
        }
        for (var i = 0; i < options.Accounts.Count; i++)
        {
            var account = options.Accounts[i];
            var results = new List<ValidationResult>();
            if (!Validator.TryValidateObject(account, new ValidationContext(account), results, validateAllProperties: true))
            {
                failures.AddRange(results.Select(r => $"Storefront:Accounts:{i}: {r.ErrorMessage}"));
            }
            if (account.PasswordHash is not null && !PasswordHash.IsWellFormed(account.PasswordHash))
            {
                failures.Add($"Storefront:Accounts:{i}:PasswordHash must be pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>.");
            }
            if (account.ShopperId?.StartsWith(ShopperIdentity.AnonymousPrefix, StringComparison.OrdinalIgnoreCase) == true)
            {
                failures.Add($"Storefront:Accounts:{i}:ShopperId must not start with '{ShopperIdentity.AnonymousPrefix}' (anonymous shoppers' ids do).");
            }
        }
        foreach (var duplicate in options.Accounts.GroupBy(a => a.Email, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        {
            failures.Add($"Storefront:Accounts: the e-mail '{duplicate.Key}' is used twice.");
        }
        foreach (var duplicate in options.Accounts.GroupBy(a => a.ShopperId, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            failures.Add($"Storefront:Accounts: the shopper id '{duplicate.Key}' is used twice.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
