using DaprShop.Catalog.Products;
using DaprShop.Catalog.Search;
using DaprShop.Catalog.Store;
using DaprShop.Contracts;
using FluentAssertions;

namespace DaprShop.Catalog.Tests.Unit;

public sealed class ValidationTests
{
    private static Dictionary<string, string[]> Price(long? amount, string? currency) =>
        ProductRules.ValidatePrice(new PriceInput(amount, currency), "EUR", "", out _);

    [Theory]
    [InlineData(null, "EUR", "amount")]
    [InlineData(0L, "EUR", "amount")]
    [InlineData(-100L, "EUR", "amount")]
    [InlineData(100_000_001L, "EUR", "amount")]
    [InlineData(1_999L, null, "currency")]
    [InlineData(1_999L, "eur", "currency")]
    [InlineData(1_999L, "USD", "currency")]
    public void An_invalid_price_names_the_field_at_fault(long? amount, string? currency, string field)
    {
        Price(amount, currency).Keys.Should().Equal(field);
    }

    [Fact]
    public void A_valid_price_becomes_money_in_minor_units()
    {
        ProductRules.ValidatePrice(new PriceInput(1_999, "EUR"), "EUR", "", out var price).Should().BeEmpty();
        price.Should().Be(new Money(1_999, "EUR"));
    }

    [Fact]
    public void A_product_without_name_or_with_a_bad_price_names_each_field()
    {
        var errors = ProductRules.Validate(new ProductInput(" ", null, "Kitchen", null, new PriceInput(0, "EUR"), null), "EUR", out var product);

        product.Should().BeNull();
        errors.Keys.Should().BeEquivalentTo("name", "brand", "price.amount");
    }

    [Fact]
    public void A_valid_product_is_trimmed()
    {
        var errors = ProductRules.Validate(new ProductInput(" Kettle ", null, "Kitchen", "Brio", new PriceInput(2_999, "EUR"), new() { ["color"] = "red" }), "EUR", out var product);

        errors.Should().BeEmpty();
        product!.Name.Should().Be("Kettle");
        product.Description.Should().BeEmpty();
        product.Attributes.Should().ContainKey("color");
    }

    [Theory]
    [InlineData("page", "0")]
    [InlineData("page", "x")]
    [InlineData("pageSize", "101")]
    [InlineData("minPrice", "-1")]
    [InlineData("maxPrice", "ten")]
    [InlineData("inStock", "maybe")]
    [InlineData("sort", "popularity")]
    public void A_bad_listing_parameter_is_named(string field, string value)
    {
        string? V(string name) => name == field ? value : null;

        var errors = ListingQuery.TryParse(V("q"), null, null, V("minPrice"), V("maxPrice"), V("inStock"), V("sort"), V("page"), V("pageSize"), out var query);

        query.Should().BeNull();
        errors.Keys.Should().Equal(field);
    }

    [Fact]
    public void A_price_range_upside_down_is_refused_on_maxPrice()
    {
        ListingQuery.TryParse(null, null, null, "500", "100", null, null, null, null, out _).Keys.Should().Equal("maxPrice");
    }

    [Fact]
    public void Listing_defaults_sort_by_relevance_with_text_and_by_name_without()
    {
        ListingQuery.TryParse("kettle", null, null, null, null, null, null, null, null, out var search);
        ListingQuery.TryParse(null, null, null, null, null, null, null, null, null, out var browse);

        search!.Sort.Should().Be(ListingSort.Relevance);
        browse!.Sort.Should().Be(ListingSort.Name);
        browse.Page.Should().Be(1);
        browse.PageSize.Should().Be(ListingQuery.DefaultPageSize);
    }

    [Fact]
    public void The_listing_cache_key_ignores_case_but_not_values()
    {
        ListingQuery.TryParse("Kettle", "KITCHEN", null, null, null, null, null, null, null, out var a);
        ListingQuery.TryParse("kettle", "kitchen", null, null, null, null, null, null, null, out var b);
        ListingQuery.TryParse("kettle", "kitchen", null, null, null, null, null, "2", null, out var c);

        a!.CacheKey().Should().Be(b!.CacheKey());
        c!.CacheKey().Should().NotBe(b.CacheKey());
    }

    [Fact]
    public void An_older_inventory_event_does_not_override_a_newer_one()
    {
        var product = ProductSeed.Generate(1)[0];
        var now = DateTimeOffset.UtcNow;

        var outOfStock = product.WithAvailability(false, now)!;
        outOfStock.Available.Should().BeFalse();
        outOfStock.Version.Should().Be(product.Version + 1);
        outOfStock.WithAvailability(true, now.AddSeconds(-1)).Should().BeNull();
        outOfStock.WithAvailability(true, now.AddSeconds(1))!.Available.Should().BeTrue();
    }

    [Theory]
    [InlineData("\"7\"", 7L)]
    [InlineData("7", null)]
    [InlineData("\"x\"", null)]
    [InlineData("W/\"7\"", null)]
    public void If_match_accepts_the_etags_the_api_hands_out(string header, long? version)
    {
        ProductCommands.ParseIfMatch(header).Should().Be(version);
    }
}
