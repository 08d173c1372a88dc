using System.Globalization;
using DaprShop.Contracts;

namespace DaprShop.Payment.Payments;

/// <summary>
/// What the provider checks before it talks to the card network. Errors are keyed by the request's field names
/// (camelCase, as they are on the wire) so a problem details answer names the field.
/// </summary>
public static class CardRules
{
    /// <summary>The card number without the spaces and dashes people type: "4242 4242 4242 4242" → "4242424242424242".</summary>
    public static string Normalize(string? cardNumber) =>
        string.Concat((cardNumber ?? "").Where(c => c is not (' ' or '-')));

    public static Dictionary<string, string[]> Validate(AuthorizePayment request, DateTimeOffset now)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.PaymentId))
        {
            errors["paymentId"] = ["a payment id (the order id) is required"];
        }
        if (request.Amount.Amount <= 0)
        {
            errors["amount"] = ["the amount must be positive, in minor units"];
        }
        else if (request.Amount.Currency is not { Length: 3 } currency || !currency.All(char.IsAsciiLetterUpper))
        {
            errors["amount.currency"] = ["the currency must be an ISO 4217 code such as EUR"];
        }
        var number = Normalize(request.CardNumber);
        if (number.Length is < 12 or > 19 || !number.All(char.IsAsciiDigit))
        {
            errors["cardNumber"] = ["a card number has 12 to 19 digits"];
        }
        else if (!CardNumbers.PassesLuhn(number))
        {
            errors["cardNumber"] = ["the card number is not valid (checksum)"];
        }
        if (string.IsNullOrWhiteSpace(request.CardHolder))
        {
            errors["cardHolder"] = ["the card holder's name is required"];
        }
        if (!TryParseExpiry(request.Expiry, out var expiresAfter))
        {
            errors["expiry"] = ["the expiry must be MM/YY or MM/YYYY"];
        }
        else if (now >= expiresAfter)
        {
            errors["expiry"] = ["the card has expired"];
        }
        if (request.Cvc is not { Length: 3 or 4 } cvc || !cvc.All(char.IsAsciiDigit))
        {
            errors["cvc"] = ["the CVC has 3 or 4 digits"];
        }
        return errors;
    }

    /// <summary>A card is valid through the last day of its expiry month: the returned instant is the first moment it is not.</summary>
    public static bool TryParseExpiry(string? expiry, out DateTimeOffset expiresAfter)
    {
        expiresAfter = default;
        var parts = (expiry ?? "").Split('/', StringSplitOptions.TrimEntries);
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var month) || month is < 1 or > 12
            || parts[1].Length is not (2 or 4)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var year))
        {
            return false;
        }
        year = parts[1].Length == 2 ? 2000 + year : year;
        if (year is < 2000 or > 9998)
        {
            return false;
        }
        expiresAfter = new DateTimeOffset(year, month, 1, 0, 0, 0, TimeSpan.Zero).AddMonths(1);
        return true;
    }
}
