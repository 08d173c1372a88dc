using DaprShop.Basket.Baskets;
using FluentAssertions;

namespace DaprShop.Basket.Tests;

public sealed class ShopperBasketTests
{
    [Fact]
    public void Adding_a_product_already_in_the_basket_adds_to_its_line()
    {
        var basket = new ShopperBasket();

        basket.Add("p-0001", 2).Should().Be(BasketViolation.None);
        basket.Add("p-0002", 1).Should().Be(BasketViolation.None);
        basket.Add("p-0001", 3).Should().Be(BasketViolation.None);

        basket.Lines.Should().Equal(new BasketLine("p-0001", 5), new BasketLine("p-0002", 1));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(100)]
    public void A_quantity_outside_1_to_99_is_refused(int quantity)
    {
        var basket = new ShopperBasket();

        basket.Add("p-0001", quantity).Should().Be(BasketViolation.QuantityOutOfRange);

        basket.IsEmpty.Should().BeTrue();
    }

    [Fact]
    public void Adding_past_99_units_on_a_line_is_refused_and_leaves_the_line_as_it_was()
    {
        var basket = new ShopperBasket([new BasketLine("p-0001", 98)]);

        basket.Add("p-0001", 2).Should().Be(BasketViolation.QuantityOutOfRange);

        basket.Lines.Should().Equal(new BasketLine("p-0001", 98));
        basket.Add("p-0001", 1).Should().Be(BasketViolation.None);
        basket.Lines.Single().Quantity.Should().Be(99);
    }

    [Fact]
    public void A_51st_product_is_refused_but_more_of_a_product_already_there_is_not()
    {
        var basket = new ShopperBasket(Enumerable.Range(1, 50).Select(i => new BasketLine($"p-{i:0000}", 1)));

        basket.Add("p-0051", 1).Should().Be(BasketViolation.TooManyLines);
        basket.Add("p-0050", 1).Should().Be(BasketViolation.None);

        basket.Lines.Should().HaveCount(50);
        basket.Lines.Should().NotContain(l => l.ProductId == "p-0051");
    }

    [Fact]
    public void Setting_a_quantity_replaces_it_and_zero_removes_the_line()
    {
        var basket = new ShopperBasket([new BasketLine("p-0001", 2), new BasketLine("p-0002", 4)]);

        basket.SetQuantity("p-0001", 7).Should().Be(BasketViolation.None);
        basket.SetQuantity("p-0002", 0).Should().Be(BasketViolation.None);

        basket.Lines.Should().Equal(new BasketLine("p-0001", 7));
    }

    [Fact]
    public void Setting_the_quantity_of_a_product_not_in_the_basket_is_refused()
    {
        var basket = new ShopperBasket([new BasketLine("p-0001", 2)]);

        basket.SetQuantity("p-0009", 1).Should().Be(BasketViolation.NotInBasket);
        basket.SetQuantity("p-0001", 100).Should().Be(BasketViolation.QuantityOutOfRange);

        basket.Lines.Should().Equal(new BasketLine("p-0001", 2));
    }

    [Fact]
    public void Removing_tells_whether_the_line_was_there()
    {
        var basket = new ShopperBasket([new BasketLine("p-0001", 2)]);

        basket.Remove("p-0001").Should().BeTrue();
        basket.Remove("p-0001").Should().BeFalse();
        basket.IsEmpty.Should().BeTrue();
    }

    [Fact]
    public void Merging_adds_lines_up_caps_them_at_99_and_keeps_at_most_50_lines()
    {
        var basket = new ShopperBasket(Enumerable.Range(1, 49).Select(i => new BasketLine($"p-{i:0000}", 90)));

        basket.MergeFrom([new BasketLine("p-0001", 5), new BasketLine("p-0002", 20), new BasketLine("p-0100", 3), new BasketLine("p-0101", 1)]);

        basket.Lines.Should().HaveCount(50);
        basket.Lines.Single(l => l.ProductId == "p-0001").Quantity.Should().Be(95);
        basket.Lines.Single(l => l.ProductId == "p-0002").Quantity.Should().Be(99);
        basket.Lines.Last().Should().Be(new BasketLine("p-0100", 3));
        basket.Lines.Should().NotContain(l => l.ProductId == "p-0101");
    }

    [Fact]
    public void Taking_out_an_order_lowers_each_bought_line_removes_lines_with_none_left_and_keeps_the_rest()
    {
        var basket = new ShopperBasket([new BasketLine("p-0001", 3), new BasketLine("p-0002", 1), new BasketLine("p-0003", 2)]);

        basket.TakeOrdered([new BasketLine("p-0001", 2), new BasketLine("p-0002", 1), new BasketLine("p-0009", 4), new BasketLine("p-0003", 5)]);

        basket.Lines.Should().Equal(new BasketLine("p-0001", 1));
    }

    [Fact]
    public void The_dto_lists_product_ids_and_quantities_in_the_order_they_were_added()
    {
        var basket = new ShopperBasket();
        basket.Add("p-0003", 1);
        basket.Add("p-0001", 2);
        var at = DateTimeOffset.Parse("2026-01-02T03:04:05Z", System.Globalization.CultureInfo.InvariantCulture);

        var dto = basket.ToDto("alice", at);

        dto.ShopperId.Should().Be("alice");
        dto.UpdatedAt.Should().Be(at);
        dto.Items.Select(i => (i.ProductId, i.Quantity)).Should().Equal(("p-0003", 1), ("p-0001", 2));
    }

    [Theory]
    [InlineData("alice", true)]
    [InlineData("anon-7f3c.x_1", true)]
    [InlineData("-alice", false)]
    [InlineData("a b", false)]
    [InlineData("a/b", false)]
    [InlineData("", false)]
    public void Ids_are_limited_to_a_safe_alphabet(string id, bool valid)
    {
        BasketApi.IdPattern().IsMatch(id).Should().Be(valid);
        BasketApi.IdPattern().IsMatch(new string('a', 65)).Should().BeFalse();
    }
}
