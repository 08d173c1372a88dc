using System.ComponentModel.DataAnnotations;
using DaprShop.Storefront.Accounts;
using DaprShop.Storefront.Shopping;
using FluentAssertions;

namespace DaprShop.Storefront.Tests.Unit;

public sealed class CheckoutFormTests
{
    private static CheckoutForm Valid() => new()
    {
        Name = "Ada Lovelace",
        Line1 = "1 Main Street",
        City = "London",
        PostalCode = "n1 1aa",
        Country = "GB",
        CardNumber = "4242 4242 4242 4242",
        CardHolder = "Ada Lovelace",
        Expiry = "12/99",
        Cvc = "123",
        IdempotencyKey = CheckoutForm.NewIdempotencyKey(),
    };

    private static Dictionary<string, string> Errors(CheckoutForm form)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(form, new ValidationContext(form), results, validateAllProperties: true);
        return results.SelectMany(r => r.MemberNames.Select(m => (m, r.ErrorMessage!))).GroupBy(e => e.m).ToDictionary(g => g.Key, g => g.First().Item2);
    }

    [Fact]
    public void A_complete_form_is_valid()
    {
        Errors(Valid()).Should().BeEmpty();
    }

    [Fact]
    public void An_empty_form_names_every_required_field_in_words_a_shopper_reads()
    {
        var errors = Errors(new CheckoutForm { IdempotencyKey = "k" });

        errors.Keys.Should().BeEquivalentTo("Name", "Line1", "City", "PostalCode", "Country", "CardNumber", "CardHolder", "Expiry", "Cvc");
        errors["Line1"].Should().Be("Enter the street address.");
        errors["CardNumber"].Should().Be("Enter the card number.");
    }

    [Theory]
    [InlineData("4242 4242 4242 4241", "Enter a valid card number (see the test cards).")]
    [InlineData("4242", "Enter a valid card number (see the test cards).")]
    [InlineData("4242-4242-4242-424x", "Enter a valid card number (see the test cards).")]
    public void A_card_number_must_have_12_to_19_digits_and_pass_the_luhn_check(string number, string message)
    {
        var form = Valid();
        form.CardNumber = number;

        Errors(form).Should().Equal(new Dictionary<string, string> { ["CardNumber"] = message });
    }

    [Theory]
    [InlineData("13/30", "Enter the expiry date as MM/YY.")]
    [InlineData("1/30", "Enter the expiry date as MM/YY.")]
    [InlineData("01/20", "This card has expired.")]
    public void An_expiry_must_be_a_month_that_has_not_passed(string expiry, string message)
    {
        var form = Valid();
        form.Expiry = expiry;

        Errors(form).Should().Equal(new Dictionary<string, string> { ["Expiry"] = message });
    }

    [Fact]
    public void A_card_is_valid_to_the_end_of_its_month()
    {
        var now = new DateTimeOffset(2030, 6, 30, 23, 0, 0, TimeSpan.Zero);

        CardExpiryAttribute.IsCurrent(6, 2030, now).Should().BeTrue();
        CardExpiryAttribute.IsCurrent(5, 2030, now).Should().BeFalse();
        CardExpiryAttribute.IsCurrent(1, 2031, now).Should().BeTrue();
    }

    [Fact]
    public void The_request_carries_who_where_and_the_card_but_never_a_price()
    {
        var shopper = new Shopper("ada", true, "Ada Lovelace", "ada@daprshop.test", false);

        var request = Valid().ToRequest(shopper);

        request.ShopperId.Should().Be("ada");
        request.Email.Should().Be("ada@daprshop.test");
        request.Card.Number.Should().Be("4242424242424242", "ordering accepts digits only");
        request.ShippingAddress.PostalCode.Should().Be("N1 1AA");
        request.ShippingAddress.Line2.Should().BeNull();
        typeof(DaprShop.Storefront.Services.CheckoutRequest).GetProperties().Select(p => p.Name)
            .Should().NotContain(n => n.Contains("Price", StringComparison.OrdinalIgnoreCase) || n.Contains("Total", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("shippingAddress.postalCode", "PostalCode")]
    [InlineData("card.number", "CardNumber")]
    [InlineData("card.expiry", "Expiry")]
    [InlineData("email", null)]
    [InlineData("Idempotency-Key", null)]
    public void Orderings_field_names_map_to_the_forms_fields(string apiField, string? field)
    {
        CheckoutForm.FieldOf(apiField).Should().Be(field);
    }
}
