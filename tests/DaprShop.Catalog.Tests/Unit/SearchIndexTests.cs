using DaprShop.Catalog.Products;
using DaprShop.Catalog.Search;
using DaprShop.Contracts;
using FluentAssertions;

namespace DaprShop.Catalog.Tests.Unit;

public sealed class SearchIndexTests
{
    private static readonly SearchIndex Seeded = new(ProductSeed.Generate(500), 1);

    private static Product P(string id, string name, string description = "", string category = "Kitchen", string brand = "Brio", long price = 1_000, bool available = true, int hour = 0) =>
        new(id, name, description, category, brand, new Money(price, "EUR"), new Dictionary<string, string>(), available, ProductSeed.Epoch.AddHours(hour), 1);

    private static ListingQuery Query(string? q = null, string? category = null, string? brand = null, string? min = null, string? max = null,
        string? inStock = null, string? sort = null, string? page = null, string? pageSize = null)
    {
        var errors = ListingQuery.TryParse(q, category, brand, min, max, inStock, sort, page, pageSize, out var query);
        errors.Should().BeEmpty();
        return query!;
    }

    [Fact]
    public void A_match_in_the_name_ranks_above_a_match_in_the_description()
    {
        var index = new SearchIndex(
        [
            P("a", "Steel Pan", "a kettle goes well with it"),
            P("b", "Electric Kettle"),
            P("c", "Toaster", "nothing to see"),
        ], 1);

        index.Query(Query("kettle")).Items.Select(i => i.ProductId).Should().Equal("b", "a");
    }

    [Fact]
    public void Every_query_word_must_match_and_rarer_words_weigh_more()
    {
        var index = new SearchIndex(
        [
            P("a", "Red Kettle"),
            P("b", "Red Toaster"),
            P("c", "Blue Kettle"),
            P("d", "Red Blender"),
        ], 1);

        index.Query(Query("red kettle")).Items.Select(i => i.ProductId).Should().Equal("a");
        index.Score("blue")[2].Should().BeGreaterThan(index.Score("red")[0], "blue is in one product, red in three");
    }

    [Fact]
    public void A_word_prefix_finds_longer_words_but_ranks_below_the_whole_word()
    {
        var index = new SearchIndex([P("a", "Headphones Max"), P("b", "Head Torch")], 1);

        index.Query(Query("head")).Items.Select(i => i.ProductId).Should().Equal("b", "a");
    }

    [Fact]
    public void Search_ignores_case_and_accents_and_covers_brand_and_category()
    {
        var index = new SearchIndex([P("a", "Crème Brûlée Torch", brand: "Cucina", category: "Kitchen"), P("b", "Lamp", category: "Furniture", brand: "Linea")], 1);

        index.Query(Query("CREME")).Items.Select(i => i.ProductId).Should().Equal("a");
        index.Query(Query("linea")).Items.Select(i => i.ProductId).Should().Equal("b");
        index.Query(Query("furniture")).Items.Select(i => i.ProductId).Should().Equal("b");
    }

    [Fact]
    public void Searching_the_seed_for_a_brand_and_a_noun_puts_exact_matches_first()
    {
        var page = Seeded.Query(Query("sonora headphones", pageSize: "100"));

        page.TotalCount.Should().BeGreaterThan(0);
        page.Items.Should().OnlyContain(p => p.Brand == "Sonora");
        page.Items[0].Name.Should().Contain("Headphones");
        Seeded.Query(Query("zzzzqqq")).TotalCount.Should().Be(0);
    }

    [Fact]
    public void Filters_combine_category_brand_price_range_and_availability()
    {
        var index = new SearchIndex(
        [
            P("a", "A", category: "Kitchen", brand: "Brio", price: 500),
            P("b", "B", category: "Kitchen", brand: "Brio", price: 1_500),
            P("c", "C", category: "Kitchen", brand: "Cucina", price: 1_000),
            P("d", "D", category: "Garden", brand: "Brio", price: 1_000),
            P("e", "E", category: "Kitchen", brand: "Brio", price: 1_000, available: false),
        ], 1);

        index.Query(Query(category: "kitchen", brand: "BRIO", min: "600", max: "1500")).Items.Select(i => i.ProductId).Should().Equal("b", "e");
        index.Query(Query(category: "kitchen", brand: "brio", min: "600", max: "1500", inStock: "true")).Items.Select(i => i.ProductId).Should().Equal("b");
        index.Query(Query(inStock: "false")).Items.Select(i => i.ProductId).Should().Equal("e");
    }

    [Fact]
    public void Sorting_by_price_both_ways_and_by_newest()
    {
        var index = new SearchIndex([P("a", "A", price: 300, hour: 2), P("b", "B", price: 100, hour: 3), P("c", "C", price: 200, hour: 1)], 1);

        index.Query(Query(sort: "price")).Items.Select(i => i.ProductId).Should().Equal("b", "c", "a");
        index.Query(Query(sort: "-price")).Items.Select(i => i.ProductId).Should().Equal("a", "c", "b");
        index.Query(Query(sort: "newest")).Items.Select(i => i.ProductId).Should().Equal("b", "a", "c");
        index.Query(Query(sort: "name")).Items.Select(i => i.ProductId).Should().Equal("a", "b", "c");
    }

    [Theory]
    [InlineData(500, 20, 25)]
    [InlineData(500, 30, 17)]
    [InlineData(1, 100, 1)]
    [InlineData(0, 20, 0)]
    public void The_page_count_rounds_up(int total, int pageSize, int pages)
    {
        CatalogPage.PagesFor(total, pageSize).Should().Be(pages);
    }

    [Fact]
    public void Pages_cover_every_product_exactly_once_and_the_last_page_is_partial()
    {
        var ids = new List<string>();
        for (var page = 1; page <= 17; page++)
        {
            var result = Seeded.Query(Query(sort: "price", page: page.ToString(System.Globalization.CultureInfo.InvariantCulture), pageSize: "30"));
            result.TotalCount.Should().Be(500);
            result.TotalPages.Should().Be(17);
            ids.AddRange(result.Items.Select(i => i.ProductId));
            result.Items.Should().HaveCount(page < 17 ? 30 : 20);
        }
        ids.Should().OnlyHaveUniqueItems().And.HaveCount(500);
        Seeded.Query(Query(page: "18", pageSize: "30")).Items.Should().BeEmpty();
    }

    [Fact]
    public void Categories_and_brands_are_counted()
    {
        Seeded.Categories.Should().HaveCount(12);
        Seeded.Categories.Sum(c => c.ProductCount).Should().Be(500);
        Seeded.Brands.Sum(b => b.ProductCount).Should().Be(500);
        Seeded.Categories.Select(c => c.Name).Should().BeInAscendingOrder(StringComparer.OrdinalIgnoreCase);
    }
}
