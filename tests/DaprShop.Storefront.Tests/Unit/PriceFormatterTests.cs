using System.Globalization;
using DaprShop.Contracts;
using DaprShop.Storefront.Shopping;
using FluentAssertions;

namespace DaprShop.Storefront.Tests.Unit;

public sealed class PriceFormatterTests
{
    // ICU versions differ on which space sits between number and symbol (plain, no-break, narrow no-break).
    private static string Format(string culture, long amount, string currency) =>
        new PriceFormatter(CultureInfo.GetCultureInfo(culture)).Format(new Money(amount, currency)).Replace('\u00a0', ' ').Replace('\u202f', ' ');

    [Fact]
    public void Euros_in_minor_units_are_shown_with_the_shops_pattern_and_symbol()
    {
        Format("en-IE", 4_990, "EUR").Should().Be("€49.90");
        Format("en-IE", 123_456_789, "EUR").Should().Be("€1,234,567.89");
    }

    [Fact]
    public void Another_culture_places_the_symbol_and_separators_its_own_way()
    {
        Format("de-DE", 123_456, "EUR").Should().Be("1.234,56 €");
        Format("fr-FR", 4_990, "EUR").Should().Be("49,90 €");
    }

    [Fact]
    public void A_currency_without_minor_units_shows_none()
    {
        PriceFormatter.MinorDigits("JPY").Should().Be(0);
        Format("en-IE", 1_200, "JPY").Should().EndWith("1,200").And.NotContain(".");
    }

    [Fact]
    public void A_foreign_currency_uses_its_own_symbol_in_the_shops_pattern()
    {
        Format("en-IE", 1_999, "GBP").Should().Be("£19.99");
        Format("de-DE", 1_999, "USD").Should().Be("19,99 $");
    }

    [Fact]
    public void A_currency_no_culture_knows_is_shown_with_its_code()
    {
        Format("en-IE", 1_250, "XTS").Should().Be("12.50 XTS");
    }

    [Fact]
    public void Machine_readable_values_are_invariant_major_units()
    {
        PriceFormatter.MachineValue(new Money(123_456, "EUR")).Should().Be("1234.56");
        PriceFormatter.MachineValue(new Money(1_200, "JPY")).Should().Be("1200");
    }

    [Theory]
    [InlineData("19.99", "EUR", 1_999)]
    [InlineData("0.005", "EUR", 1)]
    [InlineData("10", "EUR", 1_000)]
    [InlineData("1200", "JPY", 1_200)]
    public void Prices_typed_in_major_units_become_minor_units(string major, string currency, long minor)
    {
        PriceFormatter.ToMinor(decimal.Parse(major, CultureInfo.InvariantCulture), currency).Should().Be(minor);
    }
}
