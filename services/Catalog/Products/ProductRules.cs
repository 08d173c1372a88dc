using System.Text.RegularExpressions;
using DaprShop.Contracts;

namespace DaprShop.Catalog.Products;

/// <summary>A back-office product as posted; everything optional so that each missing field can be named.</summary>
public sealed record ProductInput(
    string? Name,
    string? Description,
    string? Category,
    string? Brand,
    PriceInput? Price,
    Dictionary<string, string>? Attributes);

public sealed record PriceInput(long? Amount, string? Currency);

/// <summary>A product input that passed <see cref="ProductRules.Validate(ProductInput, string, out ValidProduct?)"/>.</summary>
public sealed record ValidProduct(string Name, string Description, string Category, string Brand, Money Price, IReadOnlyDictionary<string, string> Attributes);

public static partial class ProductRules
{
    /// <summary>One million euros: anything above is a typo in minor units, not a product.</summary>
    public const long MaxPriceAmount = 100_000_000;
    public const int MaxNameLength = 120;
    public const int MaxDescriptionLength = 2_000;
    public const int MaxLabelLength = 60;
    public const int MaxAttributes = 30;

    public static Dictionary<string, string[]> Validate(ProductInput input, string currency, out ValidProduct? product)
    {
        var errors = new Dictionary<string, string[]>();
        var name = Required(errors, "name", input.Name, MaxNameLength);
        var description = input.Description?.Trim() ?? "";
        if (description.Length > MaxDescriptionLength)
        {
            errors["description"] = [$"must be at most {MaxDescriptionLength} characters"];
        }
        var category = Required(errors, "category", input.Category, MaxLabelLength);
        var brand = Required(errors, "brand", input.Brand, MaxLabelLength);
        Money price = default;
        if (input.Price is null)
        {
            errors["price"] = ["is required"];
        }
        else
        {
            foreach (var (field, messages) in ValidatePrice(input.Price, currency, "price.", out price))
            {
                errors[field] = messages;
            }
        }
        var attributes = input.Attributes ?? [];
        if (attributes.Count > MaxAttributes)
        {
            errors["attributes"] = [$"at most {MaxAttributes} attributes"];
        }
        foreach (var (key, value) in attributes)
        {
            if (string.IsNullOrWhiteSpace(key) || key.Length > MaxLabelLength || value is null || value.Length > 200)
            {
                errors[$"attributes.{key}"] = ["keys are 1 to 60 characters and values at most 200"];
            }
        }
        product = errors.Count == 0
            ? new ValidProduct(name!, description, category!, brand!, price, new Dictionary<string, string>(attributes, StringComparer.Ordinal))
            : null;
        return errors;
    }

    /// <summary>A price is a positive amount in minor units in the catalog's currency: the catalog sells in one currency.</summary>
    public static Dictionary<string, string[]> ValidatePrice(PriceInput input, string currency, string prefix, out Money price)
    {
        var errors = new Dictionary<string, string[]>();
        price = default;
        if (input.Amount is not { } amount)
        {
            errors[prefix + "amount"] = ["is required (minor units, e.g. 1999 for 19.99)"];
        }
        else if (amount <= 0)
        {
            errors[prefix + "amount"] = ["must be greater than zero"];
        }
        else if (amount > MaxPriceAmount)
        {
            errors[prefix + "amount"] = [$"must be at most {MaxPriceAmount} minor units"];
        }
        if (string.IsNullOrWhiteSpace(input.Currency))
        {
            errors[prefix + "currency"] = ["is required"];
        }
        else if (!CurrencyCode().IsMatch(input.Currency))
        {
            errors[prefix + "currency"] = ["must be an ISO 4217 code such as EUR"];
        }
        else if (!string.Equals(input.Currency, currency, StringComparison.Ordinal))
        {
            errors[prefix + "currency"] = [$"the catalog sells in {currency}"];
        }
        if (errors.Count == 0)
        {
            price = new Money(input.Amount!.Value, currency);
        }
        return errors;
    }

    private static string? Required(Dictionary<string, string[]> errors, string field, string? value, int maxLength)
    {
        var trimmed = value?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            errors[field] = ["is required"];
            return null;
        }
        if (trimmed.Length > maxLength)
        {
            errors[field] = [$"must be at most {maxLength} characters"];
            return null;
        }
        return trimmed;
    }

    [GeneratedRegex("^[A-Z]{3}$")]
    private static partial Regex CurrencyCode();
}
