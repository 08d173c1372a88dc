using DaprShop.Contracts;
using DaprShop.Payment.Payments;
using FluentAssertions;

namespace DaprShop.Payment.Tests.Unit;

public class CardRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static AuthorizePayment Valid() => new("order-1", new Money(1_000, "EUR"), "4242 4242 4242 4242", "Zoë Müller", "12/27", "123");

    [Fact]
    public void A_well_formed_request_has_no_errors()
    {
        CardRules.Validate(Valid(), Now).Should().BeEmpty();
    }

    [Theory]
    [InlineData(TestCards.Approve)]
    [InlineData(TestCards.Decline)]
    [InlineData(TestCards.InsufficientFunds)]
    [InlineData(TestCards.ApproveAfterConfirmation)]
    [InlineData(TestCards.ProviderTimeout)]
    [InlineData(TestCards.PendingForever)]
    public void Every_test_card_passes_the_luhn_check(string number)
    {
        CardNumbers.PassesLuhn(number).Should().BeTrue();
    }

    [Theory]
    [InlineData("4242 4242 4242 4241", "the card number is not valid (checksum)")]
    [InlineData("4242-4242-4242-4243", "the card number is not valid (checksum)")]
    [InlineData("4242", "a card number has 12 to 19 digits")]
    [InlineData("4242 4242 4242 424x", "a card number has 12 to 19 digits")]
    [InlineData("", "a card number has 12 to 19 digits")]
    public void A_bad_card_number_is_named_with_its_reason(string number, string message)
    {
        CardRules.Validate(Valid() with { CardNumber = number }, Now).Should().ContainKey("cardNumber").WhoseValue.Should().Equal(message);
    }

    [Theory]
    [InlineData("11/26", null)]
    [InlineData("11/2026", null)]
    [InlineData("10/26", "the card has expired")]
    [InlineData("01/2020", "the card has expired")]
    [InlineData("13/27", "the expiry must be MM/YY or MM/YYYY")]
    [InlineData("1227", "the expiry must be MM/YY or MM/YYYY")]
    [InlineData("12/7", "the expiry must be MM/YY or MM/YYYY")]
    public void A_card_is_valid_through_the_last_day_of_its_expiry_month(string expiry, string? message)
    {
        var errors = CardRules.Validate(Valid() with { Expiry = expiry }, Now);

        if (message is null)
        {
            errors.Should().NotContainKey("expiry");
        }
        else
        {
            errors.Should().ContainKey("expiry").WhoseValue.Should().Equal(message);
        }
    }

    [Theory]
    [InlineData("12")]
    [InlineData("12345")]
    [InlineData("12a")]
    public void A_cvc_has_three_or_four_digits(string cvc)
    {
        CardRules.Validate(Valid() with { Cvc = cvc }, Now).Should().ContainKey("cvc");
        CardRules.Validate(Valid() with { Cvc = "1234" }, Now).Should().NotContainKey("cvc");
    }

    [Fact]
    public void Amount_holder_and_payment_id_are_checked_too()
    {
        var errors = CardRules.Validate(Valid() with { PaymentId = " ", CardHolder = "", Amount = new Money(0, "EUR") }, Now);

        errors.Keys.Should().BeEquivalentTo("paymentId", "cardHolder", "amount");
        CardRules.Validate(Valid() with { Amount = new Money(5, "eur") }, Now).Keys.Should().Equal("amount.currency");
    }

    [Theory]
    [InlineData("4242 4242 4242 4242", CardBehaviour.Approve)]
    [InlineData("4000 0000 0000 0002", CardBehaviour.Decline)]
    [InlineData("4000-0000-0000-9995", CardBehaviour.InsufficientFunds)]
    [InlineData("4000000000003220", CardBehaviour.ApproveAfterConfirmation)]
    [InlineData("4000 0000 0000 0119", CardBehaviour.ProviderTimeout)]
    [InlineData("4000 0000 0000 3063", CardBehaviour.PendingForever)]
    [InlineData("5555 5555 5555 4444", CardBehaviour.Approve)]
    public void Each_test_card_has_its_documented_behaviour(string number, CardBehaviour behaviour)
    {
        TestCards.BehaviourOf(CardRules.Normalize(number)).Should().Be(behaviour);
    }
}
