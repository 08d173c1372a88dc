using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.RegularExpressions;
using DaprShop.Contracts;
using DaprShop.Storefront.Accounts;
using DaprShop.Storefront.Services;

namespace DaprShop.Storefront.Shopping;

/// <summary>
/// The checkout form. The idempotency key is made when the form is first shown and travels in it, so submitting the
/// same form twice (a double click, a retry after a timeout) names the same order. No price is ever sent: ordering
/// prices the basket from the catalog.
/// </summary>
public sealed class CheckoutForm
{
    [Required(ErrorMessage = "Enter the recipient's full name.")]
    [StringLength(100, ErrorMessage = "Keep the name under 100 characters.")]
    public string? Name { get; set; }

    [Required(ErrorMessage = "Enter the street address.")]
    [StringLength(200, ErrorMessage = "Keep the address line under 200 characters.")]
    public string? Line1 { get; set; }

    [StringLength(200, ErrorMessage = "Keep the address line under 200 characters.")]
    public string? Line2 { get; set; }

    [Required(ErrorMessage = "Enter the town or city.")]
    [StringLength(100, ErrorMessage = "Keep the town under 100 characters.")]
    public string? City { get; set; }

    [Required(ErrorMessage = "Enter the postal code.")]
    [RegularExpression("^[A-Za-z0-9][A-Za-z0-9 -]{1,11}$", ErrorMessage = "Enter a valid postal code.")]
    public string? PostalCode { get; set; }

    [Required(ErrorMessage = "Choose the country.")]
    [RegularExpression("^[A-Z]{2}$", ErrorMessage = "Choose the country.")]
    public string? Country { get; set; }

    [Required(ErrorMessage = "Enter the card number.")]
    [CardNumber]
    public string? CardNumber { get; set; }

    [Required(ErrorMessage = "Enter the name on the card.")]
    [StringLength(100, ErrorMessage = "Keep the name under 100 characters.")]
    public string? CardHolder { get; set; }

    [Required(ErrorMessage = "Enter the expiry date as MM/YY.")]
    [CardExpiry]
    public string? Expiry { get; set; }

    [Required(ErrorMessage = "Enter the security code.")]
    [RegularExpression("^[0-9]{3,4}$", ErrorMessage = "Enter the 3 or 4 digits on the back of the card.")]
    public string? Cvc { get; set; }

    [Required, RegularExpression("^[A-Za-z0-9_-]{1,64}$")]
    public string? IdempotencyKey { get; set; }

    public static string NewIdempotencyKey() => "ord-" + Guid.NewGuid().ToString("N");

    public CheckoutRequest ToRequest(Shopper shopper) => new(
        shopper.ShopperId,
        shopper.Email,
        new ShippingAddress(Name!.Trim(), Line1!.Trim(), string.IsNullOrWhiteSpace(Line2) ? null : Line2.Trim(), City!.Trim(), PostalCode!.Trim().ToUpperInvariant(), Country!),
        new CardRequest(CardNumberAttribute.Normalize(CardNumber!), CardHolder!.Trim(), Expiry!.Trim(), Cvc!));

    /// <summary>Which form field a field named in ordering's validation problem belongs to (null: the form as a whole).</summary>
    public static string? FieldOf(string apiField) => apiField.ToLowerInvariant() switch
    {
        "shippingaddress.name" => nameof(Name),
        "shippingaddress.line1" => nameof(Line1),
        "shippingaddress.line2" => nameof(Line2),
        "shippingaddress.city" => nameof(City),
        "shippingaddress.postalcode" => nameof(PostalCode),
        "shippingaddress.country" => nameof(Country),
        "card.number" => nameof(CardNumber),
        "card.holder" => nameof(CardHolder),
        "card.expiry" => nameof(Expiry),
        "card.cvc" => nameof(Cvc),
        _ => null,
    };
}

/// <summary>A card number: 12 to 19 digits (spaces and dashes allowed between them) that pass the Luhn check.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed partial class CardNumberAttribute : ValidationAttribute
{
    public CardNumberAttribute() : base("Enter a valid card number (see the test cards).")
    {
    }

    [GeneratedRegex("^[0-9]{12,19}$")]
    private static partial Regex Digits();

    public static string Normalize(string number) => number.Replace(" ", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal).Trim();

    public override bool IsValid(object? value)
    {
        if (value is not string text || string.IsNullOrWhiteSpace(text))
        {
            return true; // [Required] speaks for a missing number
        }
        var digits = Normalize(text);
        return Digits().IsMatch(digits) && CardNumbers.PassesLuhn(digits);
    }
}

/// <summary>An expiry date written MM/YY that is not in the past (a card is valid to the end of its month).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed partial class CardExpiryAttribute : ValidationAttribute
{
    [GeneratedRegex("^(0[1-9]|1[0-2])/([0-9]{2})$")]
    private static partial Regex Pattern();

    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        if (value is not string text || string.IsNullOrWhiteSpace(text))
        {
            return ValidationResult.Success;
        }
        var match = Pattern().Match(text.Trim());
        if (!match.Success)
        {
            return new ValidationResult("Enter the expiry date as MM/YY.", [validationContext.MemberName!]);
        }
        var time = validationContext.GetService(typeof(TimeProvider)) as TimeProvider ?? TimeProvider.System;
        return IsCurrent(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), 2000 + int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture), time.GetUtcNow())
            ? ValidationResult.Success
            : new ValidationResult("This card has expired.", [validationContext.MemberName!]);
    }

    public static bool IsCurrent(int month, int year, DateTimeOffset now) => year > now.Year || (year == now.Year && month >= now.Month);
}
