using DaprShop.Contracts;
using DaprShop.Storefront.Services;

namespace DaprShop.Storefront.Shopping;

public enum StepState { Done, Current, Upcoming, NotReached, Failed }

public sealed record OrderStep(OrderStatus Status, string Label, StepState State, DateTimeOffset? At);

/// <summary>How an order's checkout is shown: the saga's steps in order, which are done, which runs now, and how it ended.</summary>
public static class OrderProgress
{
    public static string LabelOf(OrderStatus status) => status switch
    {
        OrderStatus.Submitted => "Order received",
        OrderStatus.StockReserved => "Items reserved",
        OrderStatus.AwaitingPaymentConfirmation => "Waiting for your bank",
        OrderStatus.PaymentAuthorized => "Payment authorised",
        OrderStatus.Paid => "Paid",
        OrderStatus.Confirmed => "Confirmed",
        OrderStatus.Failed => "Not completed",
        OrderStatus.Cancelled => "Cancelled",
        _ => status.ToString(),
    };

    public static string Explain(OrderStatus status) => status switch
    {
        OrderStatus.Submitted => "We have your order and are checking the items.",
        OrderStatus.StockReserved => "Your items are put aside for you; taking the payment…",
        OrderStatus.AwaitingPaymentConfirmation => "Waiting for your bank to confirm the payment…",
        OrderStatus.PaymentAuthorized => "Payment authorised; finishing up…",
        OrderStatus.Paid => "Paid; confirming your items…",
        OrderStatus.Confirmed => "Your order is confirmed. Thank you! A confirmation e-mail is on its way.",
        OrderStatus.Failed => "This order did not go through. You have not been charged.",
        OrderStatus.Cancelled => "This order was cancelled. You have not been charged.",
        _ => "",
    };

    /// <summary>
    /// The happy path (waiting for the bank only when the order went through it), each step done, current or still to
    /// come; a failed or cancelled order shows the steps it never reached and ends with how it ended.
    /// </summary>
    public static IReadOnlyList<OrderStep> Steps(OrderView order)
    {
        var reached = order.Timeline.GroupBy(e => e.Status).ToDictionary(g => g.Key, g => g.First().At);
        var path = new List<OrderStatus> { OrderStatus.Submitted, OrderStatus.StockReserved };
        if (reached.ContainsKey(OrderStatus.AwaitingPaymentConfirmation))
        {
            path.Add(OrderStatus.AwaitingPaymentConfirmation);
        }
        path.AddRange([OrderStatus.PaymentAuthorized, OrderStatus.Paid, OrderStatus.Confirmed]);
        var ended = order.Status is OrderStatus.Failed or OrderStatus.Cancelled;
        var steps = new List<OrderStep>();
        var currentShown = false;
        foreach (var status in path)
        {
            StepState state;
            if (reached.TryGetValue(status, out _) || (status == OrderStatus.Submitted))
            {
                state = StepState.Done;
            }
            else if (ended)
            {
                state = StepState.NotReached;
            }
            else if (!currentShown)
            {
                state = StepState.Current;
                currentShown = true;
            }
            else
            {
                state = StepState.Upcoming;
            }
            steps.Add(new OrderStep(status, LabelOf(status), state, reached.TryGetValue(status, out var at) ? at : status == OrderStatus.Submitted ? order.SubmittedAt : null));
        }
        if (ended)
        {
            steps.Add(new OrderStep(order.Status, LabelOf(order.Status), StepState.Failed, reached.TryGetValue(order.Status, out var at) ? at : null));
        }
        return steps;
    }
}
