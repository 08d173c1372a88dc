using System.Text.Json.Serialization;
using DaprShop.Contracts;

namespace DaprShop.Ordering.Orders;

public sealed record TimelineEntry(OrderStatus Status, DateTimeOffset At);

public enum TransitionOutcome { Applied, AlreadyApplied, Refused }

/// <summary>
/// The order as shoppers and the back office read it: a document kept by the checkout saga, one step at a time.
/// Each step is applied once (the saga's activities are at-least-once) and only in the saga's order.
/// </summary>
public sealed class Order
{
    private static readonly Dictionary<OrderStatus, OrderStatus[]> Next = new()
    {
        [OrderStatus.Submitted] = [OrderStatus.StockReserved, OrderStatus.Failed, OrderStatus.Cancelled],
        [OrderStatus.StockReserved] = [OrderStatus.PaymentAuthorized, OrderStatus.AwaitingPaymentConfirmation, OrderStatus.Failed, OrderStatus.Cancelled],
        [OrderStatus.AwaitingPaymentConfirmation] = [OrderStatus.PaymentAuthorized, OrderStatus.Failed, OrderStatus.Cancelled],
        [OrderStatus.PaymentAuthorized] = [OrderStatus.Paid, OrderStatus.Failed, OrderStatus.Cancelled],
        // Paid can still fail (stock confirmation lost): the saga refunds.
        [OrderStatus.Paid] = [OrderStatus.Confirmed, OrderStatus.Failed, OrderStatus.Cancelled],
        [OrderStatus.Confirmed] = [],
        [OrderStatus.Failed] = [],
        [OrderStatus.Cancelled] = [],
    };

    public required string OrderId { get; init; }
    public required string ShopperId { get; init; }
    public required string Email { get; init; }
    public required ShippingAddress ShippingAddress { get; init; }
    public required DateTimeOffset SubmittedAt { get; init; }

    [JsonInclude]
    public OrderStatus Status { get; private set; } = OrderStatus.Submitted;

    [JsonInclude]
    public List<TimelineEntry> Timeline { get; private set; } = [];

    [JsonInclude]
    public List<OrderLine> Lines { get; private set; } = [];

    [JsonInclude]
    public Money? Total { get; private set; }

    [JsonInclude]
    public string? FailureReason { get; private set; }

    public bool IsFinished => Status is OrderStatus.Confirmed or OrderStatus.Failed or OrderStatus.Cancelled;

    public static Order Submit(string orderId, string shopperId, string email, ShippingAddress address, DateTimeOffset at)
    {
        var order = new Order { OrderId = orderId, ShopperId = shopperId, Email = email, ShippingAddress = address, SubmittedAt = at };
        order.Timeline.Add(new TimelineEntry(OrderStatus.Submitted, at));
        return order;
    }

    /// <summary>The lines as the catalog priced them (never as the client sent them), and their total.</summary>
    public void Price(IReadOnlyList<OrderLine> lines)
    {
        if (lines.Count == 0)
        {
            throw new ArgumentException("an order has at least one line", nameof(lines));
        }
        Lines = [.. lines];
        Total = TotalOf(lines);
    }

    public static Money TotalOf(IReadOnlyList<OrderLine> lines) =>
        lines.Skip(1).Aggregate(lines[0].UnitPrice.Times(lines[0].Quantity), (sum, l) => sum + l.UnitPrice.Times(l.Quantity));

    public TransitionOutcome MoveTo(OrderStatus status, DateTimeOffset at, string? reason = null)
    {
        if (Timeline.Any(e => e.Status == status))
        {
            return TransitionOutcome.AlreadyApplied;
        }
        if (!Next[Status].Contains(status))
        {
            return TransitionOutcome.Refused;
        }
        Status = status;
        Timeline.Add(new TimelineEntry(status, at));
        if (status is OrderStatus.Failed or OrderStatus.Cancelled)
        {
            FailureReason = reason;
        }
        return TransitionOutcome.Applied;
    }

    /// <summary>A shopper may cancel until the order is confirmed, within the grace period after checkout.</summary>
    public bool CanBeCancelled(DateTimeOffset now, TimeSpan gracePeriod) => !IsFinished && now - SubmittedAt <= gracePeriod;
}
