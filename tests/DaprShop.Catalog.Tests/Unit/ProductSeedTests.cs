using System.Text.Json;
using DaprShop.Catalog.Products;
using FluentAssertions;

namespace DaprShop.Catalog.Tests.Unit;

public sealed class ProductSeedTests
{
    private static readonly IReadOnlyList<Product> Seed = ProductSeed.Generate(500);

    [Fact]
    public void The_seed_is_the_same_every_time_it_is_generated()
    {
        JsonSerializer.Serialize(ProductSeed.Generate(500)).Should().Be(JsonSerializer.Serialize(Seed));
    }

    [Fact]
    public void Seeded_products_have_stable_sequential_ids()
    {
        Seed.Select(p => p.Id).Should().Equal(Enumerable.Range(1, 500).Select(i => $"p-{i:0000}"));
    }

    [Fact]
    public void The_seed_spreads_over_twelve_categories_and_many_brands_with_unique_names()
    {
        Seed.Select(p => p.Category).Distinct().Should().HaveCount(12);
        Seed.GroupBy(p => p.Category).Should().OnlyContain(g => g.Count() >= 41 && g.Select(p => p.Brand).Distinct().Count() >= 3);
        Seed.Select(p => p.Brand).Distinct().Count().Should().BeGreaterThan(30);
        Seed.Select(p => p.Name).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public void Seeded_prices_are_positive_euro_amounts_in_minor_units()
    {
        Seed.Should().OnlyContain(p => p.Price.Currency == "EUR" && p.Price.Amount > 0 && p.Price.Amount % 100 == 99);
        Seed.Select(p => p.Price.Amount).Distinct().Count().Should().BeGreaterThan(100, "prices vary within a category");
    }

    [Fact]
    public void Seeded_products_have_a_description_attributes_and_a_picture()
    {
        Seed.Should().OnlyContain(p => p.Description.Length > 40 && p.Attributes.ContainsKey("color") && p.Attributes.ContainsKey("material") && p.Available && p.Version == 1);
        var svg = ProductPicture.Svg(Seed[0]);
        svg.Should().StartWith("<svg").And.Contain(Seed[0].Name);
        ProductPicture.Svg(Seed[0]).Should().Be(svg, "the picture is drawn deterministically");
        ProductPicture.ETag(Seed[0]).Should().NotBe(ProductPicture.ETag(Seed[1]));
    }
}
