using DaprShop.Storefront.Shopping;
using FluentAssertions;

namespace DaprShop.Storefront.Tests.Unit;

public sealed class CatalogQueryTests
{
    [Fact]
    public void A_query_string_is_read_into_a_query_and_written_back_the_same()
    {
        var query = CatalogQuery.From("desk lamp", "Home & Garden", "Lumo", "10", "49.5", "-price", "3");

        query.Should().Be(new CatalogQuery("desk lamp", "Home & Garden", "Lumo", 10m, 49.5m, "-price", 3));
        query.ToUrl().Should().Be("/catalog?q=desk%20lamp&category=Home%20%26%20Garden&brand=Lumo&min=10&max=49.5&sort=-price&page=3");
    }

    [Fact]
    public void The_catalog_api_gets_prices_in_minor_units_and_the_page_size()
    {
        var query = CatalogQuery.From("lamp", null, null, "10", "49.5", "price", null);

        query.ToApiQuery(24, "EUR").Should().Be("q=lamp&minPrice=1000&maxPrice=4950&sort=price&page=1&pageSize=24");
    }

    [Fact]
    public void Defaults_are_left_out_of_links()
    {
        CatalogQuery.From(" ", "", null, null, null, null, "1").ToUrl().Should().Be("/catalog");
        CatalogQuery.Empty.WithPage(2).ToUrl("/backoffice/products").Should().Be("/backoffice/products?page=2");
    }

    [Theory]
    [InlineData("abc", null, null, null)]
    [InlineData("-5", null, null, null)]
    [InlineData(null, null, "sideways", null)]
    [InlineData(null, null, null, "0")]
    [InlineData(null, null, null, "x")]
    public void A_value_the_shop_cannot_use_is_dropped_not_answered_with_an_error(string? min, string? max, string? sort, string? page)
    {
        var query = CatalogQuery.From(null, null, null, min, max, sort, page);

        query.Should().Be(CatalogQuery.Empty);
    }

    [Fact]
    public void A_price_range_typed_the_wrong_way_round_is_turned_around()
    {
        var query = CatalogQuery.From(null, null, null, "50", "10", null, null);

        (query.MinPrice, query.MaxPrice).Should().Be((10m, 50m));
    }

    [Fact]
    public void Choosing_a_category_or_brand_goes_back_to_the_first_page()
    {
        var query = CatalogQuery.From("lamp", null, null, null, null, null, "4");

        query.WithCategory("Lighting").Should().Be(query with { Category = "Lighting", Page = 1 });
        query.WithBrand("Lumo").Page.Should().Be(1);
    }

    [Fact]
    public void The_sort_in_effect_is_best_match_for_a_search_and_name_when_browsing()
    {
        CatalogQuery.Empty.EffectiveSort.Should().Be("name");
        CatalogQuery.From("lamp", null, null, null, null, null, null).EffectiveSort.Should().Be("relevance");
        CatalogQuery.From("lamp", null, null, null, null, "newest", null).EffectiveSort.Should().Be("newest");
    }
}
