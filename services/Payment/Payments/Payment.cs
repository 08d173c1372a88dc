using System.Text.Json.Serialization;
using DaprShop.Contracts;

namespace DaprShop.Payment.Payments;

/// <summary>One line of a payment's ledger: what happened, to how much money, and when.</summary>
public sealed record LedgerEntry(PaymentOperation Operation, PaymentStatus StatusAfter, Money Amount, DateTimeOffset At, string? Reason = null);

[JsonConverter(typeof(JsonStringEnumConverter<PaymentOperation>))]
public enum PaymentOperation { Authorize, Confirm, Capture, Void, Refund }

/// <summary>What a state transition did: applied, nothing to do (an idempotent repeat), or refused with a reason.</summary>
public readonly record struct Transition(TransitionOutcome Outcome, string? Reason = null)
{
    public static readonly Transition Applied = new(TransitionOutcome.Applied);
    public static readonly Transition Repeated = new(TransitionOutcome.Repeated);
    public static Transition Refused(string reason) => new(TransitionOutcome.Refused, reason);
}

public enum TransitionOutcome { Applied, Repeated, Refused }

/// <summary>
/// A payment at the simulated provider, keyed by the order id. The transitions are the provider's rules:
/// <code>
/// Pending ──confirm──▶ Approved ──capture──▶ Captured ──refund──▶ Refunded
///    │                    │
///    └──────void──────────┴──void──▶ Voided          Declined (final)
/// </code>
/// Repeating the transition that led to the current state is a no-op success, so every call can be retried.
/// Everything else is refused: a captured payment cannot be voided (it must be refunded), only a captured one can be
/// refunded. The ledger records each applied operation exactly once: it is the proof that nothing was charged twice.
/// </summary>
public sealed class Payment
{
    [JsonConstructor]
    internal Payment(string paymentId, Money amount, string cardLast4, PaymentStatus status, string? reason, List<LedgerEntry> ledger)
    {
        PaymentId = paymentId;
        Amount = amount;
        CardLast4 = cardLast4;
        Status = status;
        Reason = reason;
        Ledger = ledger;
    }

    public string PaymentId { get; }
    public Money Amount { get; }
    public string CardLast4 { get; }
    public PaymentStatus Status { get; private set; }
    public string? Reason { get; private set; }

    [JsonInclude]
    public List<LedgerEntry> Ledger { get; private set; }

    /// <summary>The outcome of an authorization at the card network: approved, declined (with a reason) or pending.</summary>
    public static Payment Authorize(string paymentId, Money amount, string cardNumber, CardBehaviour behaviour, DateTimeOffset now)
    {
        var (status, reason) = behaviour switch
        {
            CardBehaviour.Approve => (PaymentStatus.Approved, (string?)null),
            CardBehaviour.Decline => (PaymentStatus.Declined, "card declined"),
            CardBehaviour.InsufficientFunds => (PaymentStatus.Declined, "insufficient funds"),
            CardBehaviour.ApproveAfterConfirmation or CardBehaviour.PendingForever => (PaymentStatus.Pending, "awaiting confirmation by the card issuer"),
            _ => throw new ArgumentOutOfRangeException(nameof(behaviour), behaviour, "this card does not reach an authorization"),
        };
        return new Payment(paymentId, amount, cardNumber[^4..], status, reason,
            [new LedgerEntry(PaymentOperation.Authorize, status, amount, now, reason)]);
    }

    public PaymentResult ToResult() => new(PaymentId, Status, Reason);

    /// <summary>Whether an authorize request with this amount and card may be answered with this payment.</summary>
    public bool Matches(Money amount, string cardNumber) => Amount == amount && cardNumber.EndsWith(CardLast4, StringComparison.Ordinal);

    /// <summary>The issuer's asynchronous answer to a pending authorization.</summary>
    public Transition Confirm(bool approved, string? reason, DateTimeOffset now) => Status switch
    {
        PaymentStatus.Pending => Apply(PaymentOperation.Confirm, approved ? PaymentStatus.Approved : PaymentStatus.Declined, approved ? null : reason ?? "declined by the card issuer", now),
        // The answer arrived after the payment moved on (approved twice, or voided while waiting): nothing to do.
        _ => Transition.Repeated,
    };

    public Transition Capture(DateTimeOffset now) => Status switch
    {
        PaymentStatus.Approved => Apply(PaymentOperation.Capture, PaymentStatus.Captured, null, now),
        PaymentStatus.Captured => Transition.Repeated,
        PaymentStatus.Pending => Transition.Refused("the authorization is still pending confirmation"),
        PaymentStatus.Refunded => Transition.Refused("the payment was captured and then refunded"),
        _ => Transition.Refused($"a {Status.ToString().ToLowerInvariant()} payment cannot be captured"),
    };

    public Transition Void(DateTimeOffset now) => Status switch
    {
        PaymentStatus.Approved or PaymentStatus.Pending => Apply(PaymentOperation.Void, PaymentStatus.Voided, null, now),
        PaymentStatus.Voided => Transition.Repeated,
        PaymentStatus.Captured or PaymentStatus.Refunded => Transition.Refused("the payment is captured: refund it instead"),
        _ => Transition.Refused($"a {Status.ToString().ToLowerInvariant()} payment has nothing to void"),
    };

    public Transition Refund(DateTimeOffset now) => Status switch
    {
        PaymentStatus.Captured => Apply(PaymentOperation.Refund, PaymentStatus.Refunded, null, now),
        PaymentStatus.Refunded => Transition.Repeated,
        _ => Transition.Refused("only a captured payment can be refunded"),
    };

    private Transition Apply(PaymentOperation operation, PaymentStatus status, string? reason, DateTimeOffset now)
    {
        Status = status;
        Reason = reason;
        Ledger.Add(new LedgerEntry(operation, status, Amount, now, reason));
        return Transition.Applied;
    }
}
