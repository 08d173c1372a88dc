using DaprShop.Contracts;
using DaprShop.Ordering.Activities;
using DaprShop.Ordering.Orders;
using DaprShop.Ordering.Workflows;
using FluentAssertions;

namespace DaprShop.Ordering.Tests.Unit;

public sealed class CheckoutRulesTests
{
    private static readonly CheckoutRequest Valid = new("s-1", "ada@example.com",
        new ShippingAddress("Ada", "1 Main St", null, "Paris", "75001", "FR"), new CardRequest("4242424242424242", "Ada", "12/30", "123"));

    [Fact]
    public void Lines_are_priced_from_the_catalog_and_named_as_the_catalog_names_them()
    {
        var priced = SubmitOrderActivity.Price([new("p1", 2)], new PriceAnswer(new Dictionary<string, ProductPrice> { ["p1"] = new("p1", "Lamp", new Money(1_250, "EUR")) }));

        priced.Problem.Should().BeNull();
        priced.Lines.Should().Equal(new OrderLine("p1", "Lamp", 2, new Money(1_250, "EUR")));
        priced.Total.Should().Be(new Money(2_500, "EUR"));
    }

    [Fact]
    public void A_product_the_catalog_no_longer_has_refuses_the_basket()
    {
        var priced = SubmitOrderActivity.Price([new("p1", 1), new("gone", 1)], new PriceAnswer(new Dictionary<string, ProductPrice> { ["p1"] = new("p1", "Lamp", new Money(1, "EUR")) }));

        priced.Problem.Should().Contain("gone").And.Contain("no longer available");
        priced.Total.Should().BeNull();
    }

    [Fact]
    public void Out_of_stock_messages_name_the_products_a_shopper_knows()
    {
        OrderLine Line(string id, string name) => new(id, name, 1, new Money(1, "EUR"));
        var lines = new[] { Line("a", "Lamp"), Line("b", "Mug"), Line("c", "Desk") };

        CheckoutWorkflow.OutOfStock(lines, ["a"]).Should().Be("Sorry, 'Lamp' is out of stock.");
        CheckoutWorkflow.OutOfStock(lines, ["a", "c"]).Should().Be("Sorry, 'Lamp' and 'Desk' are out of stock.");
    }

    [Fact]
    public void A_valid_checkout_has_no_errors()
    {
        OrdersApi.Validate(Valid, "key-1").Should().BeEmpty();
    }

    [Fact]
    public void A_checkout_without_an_idempotency_key_names_the_header()
    {
        OrdersApi.Validate(Valid, null).Keys.Should().Equal("Idempotency-Key");
    }

    [Fact]
    public void Each_invalid_field_is_named_in_the_errors()
    {
        var request = Valid with
        {
            Email = "nope",
            ShippingAddress = Valid.ShippingAddress! with { Country = "France" },
            Card = new CardRequest("4242424242424241", "Ada", "13/30", "12"),
        };

        OrdersApi.Validate(request, "key-1").Keys.Should().BeEquivalentTo("email", "shippingAddress.country", "card.number", "card.expiry", "card.cvc");
    }

    [Theory]
    [InlineData("4242424242424242", true)]
    [InlineData("4000000000000002", true)]
    [InlineData("4242424242424243", false)]
    public void Card_numbers_are_checked_with_luhn(string number, bool valid) => CardNumbers.PassesLuhn(number).Should().Be(valid);

    [Fact]
    public void A_webhook_signature_verifies_only_the_body_it_was_made_for()
    {
        var body = "{\"paymentId\":\"o-1\",\"approved\":true}"u8.ToArray();
        var signature = PaymentWebhook.Sign("k", body);

        PaymentWebhook.Verify("k", body, signature).Should().BeTrue();
        PaymentWebhook.Verify("other", body, signature).Should().BeFalse();
        PaymentWebhook.Verify("k", "{\"paymentId\":\"o-2\",\"approved\":true}"u8.ToArray(), signature).Should().BeFalse();
        PaymentWebhook.Verify("k", body, null).Should().BeFalse();
    }
}
