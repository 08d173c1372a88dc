using System.Globalization;
using DaprShop.Contracts;

namespace DaprShop.Notifications.Mail;

/// <summary>Money as a shopper reads it: the currency's own number of minor digits (ISO 4217), with its code.</summary>
public static class MoneyText
{
    // Currencies whose minor unit is not the cent; every other currency has 2 decimals.
    private static readonly Dictionary<string, int> MinorDigits = new(StringComparer.OrdinalIgnoreCase)
    {
        ["BIF"] = 0, ["CLP"] = 0, ["DJF"] = 0, ["GNF"] = 0, ["ISK"] = 0, ["JPY"] = 0, ["KMF"] = 0, ["KRW"] = 0,
        ["PYG"] = 0, ["RWF"] = 0, ["UGX"] = 0, ["UYI"] = 0, ["VND"] = 0, ["VUV"] = 0, ["XAF"] = 0, ["XOF"] = 0, ["XPF"] = 0,
        ["BHD"] = 3, ["IQD"] = 3, ["JOD"] = 3, ["KWD"] = 3, ["LYD"] = 3, ["OMR"] = 3, ["TND"] = 3,
    };

    public static string Format(Money money)
    {
        var digits = MinorDigits.GetValueOrDefault(money.Currency, 2);
        var value = money.Amount / (decimal)Math.Pow(10, digits);
        return $"{money.Currency} {value.ToString("N" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)}";
    }
}
