using DaprShop.Contracts;
using DaprShop.Payment.Payments;
using FluentAssertions;

namespace DaprShop.Payment.Tests.Unit;

public class PaymentTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly Money Amount = new(12_345, "EUR");

    private static Payment.Payments.Payment Authorized(CardBehaviour behaviour = CardBehaviour.Approve) =>
        Payment.Payments.Payment.Authorize("order-1", Amount, TestCards.Approve, behaviour, Now);

    [Theory]
    [InlineData(CardBehaviour.Approve, PaymentStatus.Approved, null)]
    [InlineData(CardBehaviour.Decline, PaymentStatus.Declined, "card declined")]
    [InlineData(CardBehaviour.InsufficientFunds, PaymentStatus.Declined, "insufficient funds")]
    [InlineData(CardBehaviour.ApproveAfterConfirmation, PaymentStatus.Pending, "awaiting confirmation by the card issuer")]
    [InlineData(CardBehaviour.PendingForever, PaymentStatus.Pending, "awaiting confirmation by the card issuer")]
    public void An_authorization_ends_in_the_status_its_card_dictates(CardBehaviour behaviour, PaymentStatus status, string? reason)
    {
        var payment = Authorized(behaviour);

        payment.ToResult().Should().Be(new PaymentResult("order-1", status, reason));
        payment.Ledger.Should().ContainSingle().Which.Should().Be(new LedgerEntry(PaymentOperation.Authorize, status, Amount, Now, reason));
        payment.CardLast4.Should().Be("4242");
    }

    [Fact]
    public void The_timeout_card_never_reaches_an_authorization()
    {
        var authorize = () => Authorized(CardBehaviour.ProviderTimeout);

        authorize.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void An_approved_payment_is_captured_once_and_a_second_capture_is_a_no_op()
    {
        var payment = Authorized();

        payment.Capture(Now).Should().Be(Transition.Applied);
        payment.Capture(Now.AddSeconds(1)).Should().Be(Transition.Repeated);

        payment.Status.Should().Be(PaymentStatus.Captured);
        payment.Ledger.Select(e => e.Operation).Should().Equal(PaymentOperation.Authorize, PaymentOperation.Capture);
    }

    [Fact]
    public void A_captured_payment_cannot_be_voided_it_must_be_refunded()
    {
        var payment = Authorized();
        payment.Capture(Now);

        var voided = payment.Void(Now);

        voided.Outcome.Should().Be(TransitionOutcome.Refused);
        voided.Reason.Should().Contain("refund");
        payment.Status.Should().Be(PaymentStatus.Captured);
        payment.Refund(Now).Should().Be(Transition.Applied);
        payment.Refund(Now).Should().Be(Transition.Repeated);
        payment.Status.Should().Be(PaymentStatus.Refunded);
        payment.Ledger.Select(e => e.Operation).Should().Equal(PaymentOperation.Authorize, PaymentOperation.Capture, PaymentOperation.Refund);
    }

    [Theory]
    [InlineData(CardBehaviour.Approve)]
    [InlineData(CardBehaviour.ApproveAfterConfirmation)]
    public void Refunding_before_a_capture_is_refused(CardBehaviour behaviour)
    {
        var payment = Authorized(behaviour);
        var before = payment.Status;

        payment.Refund(Now).Outcome.Should().Be(TransitionOutcome.Refused);

        payment.Status.Should().Be(before);
        payment.Ledger.Should().HaveCount(1);
    }

    [Fact]
    public void An_approved_payment_is_voided_once_and_cannot_be_captured_afterwards()
    {
        var payment = Authorized();

        payment.Void(Now).Should().Be(Transition.Applied);
        payment.Void(Now).Should().Be(Transition.Repeated);

        payment.Capture(Now).Outcome.Should().Be(TransitionOutcome.Refused);
        payment.Status.Should().Be(PaymentStatus.Voided);
        payment.Ledger.Select(e => e.Operation).Should().Equal(PaymentOperation.Authorize, PaymentOperation.Void);
    }

    [Fact]
    public void A_pending_payment_cannot_be_captured_until_the_issuer_confirms_it()
    {
        var payment = Authorized(CardBehaviour.ApproveAfterConfirmation);

        payment.Capture(Now).Reason.Should().Contain("pending");
        payment.Confirm(approved: true, reason: null, Now).Should().Be(Transition.Applied);
        payment.Confirm(approved: true, reason: null, Now).Should().Be(Transition.Repeated);

        payment.Status.Should().Be(PaymentStatus.Approved);
        payment.Reason.Should().BeNull();
        payment.Capture(Now).Should().Be(Transition.Applied);
    }

    [Fact]
    public void A_confirmation_that_arrives_after_the_payment_was_voided_changes_nothing()
    {
        var payment = Authorized(CardBehaviour.ApproveAfterConfirmation);
        payment.Void(Now);

        payment.Confirm(approved: true, reason: null, Now).Should().Be(Transition.Repeated);

        payment.Status.Should().Be(PaymentStatus.Voided);
    }

    [Fact]
    public void A_declined_confirmation_declines_the_payment_with_the_issuers_reason()
    {
        var payment = Authorized(CardBehaviour.ApproveAfterConfirmation);

        payment.Confirm(approved: false, reason: "3-D Secure failed", Now);

        payment.ToResult().Should().Be(new PaymentResult("order-1", PaymentStatus.Declined, "3-D Secure failed"));
    }

    [Fact]
    public void A_declined_payment_can_be_neither_captured_nor_voided_nor_refunded()
    {
        var payment = Authorized(CardBehaviour.Decline);

        payment.Capture(Now).Outcome.Should().Be(TransitionOutcome.Refused);
        payment.Void(Now).Outcome.Should().Be(TransitionOutcome.Refused);
        payment.Refund(Now).Outcome.Should().Be(TransitionOutcome.Refused);
        payment.Ledger.Should().HaveCount(1);
    }

    [Fact]
    public void A_repeated_authorize_matches_only_the_same_amount_and_card()
    {
        var payment = Authorized();

        payment.Matches(Amount, TestCards.Approve).Should().BeTrue();
        payment.Matches(new Money(1, "EUR"), TestCards.Approve).Should().BeFalse();
        payment.Matches(Amount with { Currency = "USD" }, TestCards.Approve).Should().BeFalse();
        payment.Matches(Amount, TestCards.Decline).Should().BeFalse();
    }

    [Fact]
    public void A_payment_survives_the_round_trip_through_the_state_store_serializer()
    {
        var payment = Authorized();
        payment.Capture(Now);
        var options = new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web);

        var copy = System.Text.Json.JsonSerializer.Deserialize<Payment.Payments.Payment>(System.Text.Json.JsonSerializer.Serialize(payment, options), options)!;

        copy.ToResult().Should().Be(payment.ToResult());
        copy.Amount.Should().Be(Amount);
        copy.CardLast4.Should().Be("4242");
        copy.Ledger.Should().Equal(payment.Ledger);
        copy.Refund(Now).Should().Be(Transition.Applied);
    }
}
