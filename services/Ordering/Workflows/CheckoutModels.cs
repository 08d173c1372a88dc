using DaprShop.Contracts;
using DaprShop.Ordering.Orders;

namespace DaprShop.Ordering.Workflows;

// Records the checkout saga passes to and from its activities. They are stored in the workflow history, so
// they stay small and carry no behaviour.

public sealed record CardDetails(string Number, string Holder, string Expiry, string Cvc);

/// <summary>Who ordered what, fixed at checkout.</summary>
public sealed record OrderHeader(string OrderId, string ShopperId, string Email, ShippingAddress ShippingAddress, DateTimeOffset SubmittedAt);

public sealed record CheckoutInput(
    OrderHeader Order,
    CardDetails Card,
    TimeSpan PaymentConfirmationTimeout,
    int ReservationHoldSeconds);

public sealed record CheckoutOutcome(OrderStatus Status, string? Reason);

/// <summary>The basket re-priced from the catalog; <see cref="Problem"/> says why it cannot be ordered.</summary>
public sealed record PricedBasket(IReadOnlyList<OrderLine> Lines, Money? Total, string? Problem)
{
    public static PricedBasket Refused(string problem) => new([], null, problem);
}

/// <summary>The order to price and record as submitted, and when (the workflow's clock).</summary>
public sealed record SubmitOrderInput(OrderHeader Order, DateTimeOffset At);

public sealed record ReserveStockInput(string OrderId, IReadOnlyList<OrderLine> Lines, int HoldSeconds);

public sealed record PaymentInput(string OrderId, Money Amount, CardDetails Card);

/// <summary>
/// One step of the order's read model: the status reached, when, and what the step learnt; <see cref="Steps"/> are the
/// statuses passed since the previous record, written into the timeline first; <see cref="Announce"/> is the
/// integration event the step publishes once it is recorded (the order is readable before anyone hears of it).
/// </summary>
public sealed record RecordOrderInput(
    OrderHeader Order, OrderStatus Status, DateTimeOffset At, IReadOnlyList<OrderLine>? Lines = null, string? Reason = null, OrderEvent? Announce = null,
    IReadOnlyList<TimelineEntry>? Steps = null);

/// <summary>
/// The checkout workflow's custom status: the steps it passed since the order was last recorded (oldest first), which
/// reads of an unfinished order add to its timeline.
/// </summary>
public sealed record CheckoutProgress(IReadOnlyList<TimelineEntry> Steps);

public enum OrderEventKind { Submitted, Confirmed, Failed, Cancelled }

public sealed record OrderEvent(OrderEventKind Kind, OrderHeader Order, IReadOnlyList<OrderLine> Lines, Money? Total, string? Reason, DateTimeOffset At);

/// <summary>The payload of the <see cref="CheckoutWorkflow.CancelEvent"/> external event.</summary>
public sealed record CancelOrder(string Reason);
