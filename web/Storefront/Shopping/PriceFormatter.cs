using System.Collections.Concurrent;
using System.Globalization;
using DaprShop.Contracts;

namespace DaprShop.Storefront.Shopping;

/// <summary>
/// Shows <see cref="Money"/> (minor units + ISO 4217 code) the way the shop's culture writes money: its pattern,
/// separators and the currency's own symbol and number of minor digits (2 for EUR, 0 for JPY).
/// </summary>
public sealed class PriceFormatter(CultureInfo culture)
{
    private static readonly ConcurrentDictionary<string, CurrencyFacts?> Currencies = new(StringComparer.Ordinal);

    public CultureInfo Culture { get; } = culture;

    public string Format(Money money)
    {
        var facts = FactsOf(money.Currency, Culture);
        var digits = facts?.Digits ?? 2;
        var value = ToMajor(money.Amount, digits);
        if (facts is null)
        {
            // A currency no culture knows: the number, then its code.
            return value.ToString("N" + digits.ToString(CultureInfo.InvariantCulture), Culture) + "\u00a0" + money.Currency;
        }
        var format = (NumberFormatInfo)Culture.NumberFormat.Clone();
        format.CurrencySymbol = facts.Symbol;
        format.CurrencyDecimalDigits = digits;
        return value.ToString("C", format);
    }

    /// <summary>The amount in major units, invariant, for machine-readable markup (<c>&lt;data value&gt;</c>).</summary>
    public static string MachineValue(Money money)
    {
        var digits = MinorDigits(money.Currency);
        return ToMajor(money.Amount, digits).ToString("F" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    /// <summary>How many minor units a currency has (ISO 4217 exponent as the culture data knows it; 2 when unknown).</summary>
    public static int MinorDigits(string currency) => FactsOf(currency, null)?.Digits ?? 2;

    /// <summary>A price typed in major units (19.99) as minor units (1999); null when it does not fit.</summary>
    public static long? ToMinor(decimal major, string currency)
    {
        var scaled = decimal.Round(major * Pow10(MinorDigits(currency)), 0, MidpointRounding.AwayFromZero);
        return scaled is >= long.MinValue and <= long.MaxValue ? (long)scaled : null;
    }

    public static decimal ToMajor(long minor, string currency) => ToMajor(minor, MinorDigits(currency));

    private static decimal ToMajor(long minor, int digits) => minor / Pow10(digits);

    private static decimal Pow10(int digits)
    {
        var result = 1m;
        for (var i = 0; i < digits; i++)
        {
            result *= 10;
        }
        return result;
    }

    private sealed record CurrencyFacts(string Symbol, int Digits);

    /// <summary>The symbol and digits of a currency, preferring the display culture's own region when it uses it.</summary>
    private static CurrencyFacts? FactsOf(string currency, CultureInfo? display)
    {
        if (display is not null && !display.IsNeutralCulture && !string.IsNullOrEmpty(display.Name)
            && TryRegion(display.Name) is { } home && home.ISOCurrencySymbol == currency)
        {
            return new CurrencyFacts(home.CurrencySymbol, display.NumberFormat.CurrencyDecimalDigits);
        }
        return Currencies.GetOrAdd(currency, static code =>
        {
            foreach (var culture in CultureInfo.GetCultures(CultureTypes.SpecificCultures).OrderBy(c => c.Name, StringComparer.Ordinal))
            {
                if (TryRegion(culture.Name) is { } region && region.ISOCurrencySymbol == code)
                {
                    return new CurrencyFacts(region.CurrencySymbol, culture.NumberFormat.CurrencyDecimalDigits);
                }
            }
            return null;
        });
    }

    private static RegionInfo? TryRegion(string cultureName)
    {
        try
        {
            return new RegionInfo(cultureName);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
