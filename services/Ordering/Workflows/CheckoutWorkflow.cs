using Dapr.Workflow;
using DaprShop.Contracts;
using DaprShop.Ordering.Activities;
using DaprShop.Ordering.Orders;

namespace DaprShop.Ordering.Workflows;

/// <summary>
/// The checkout saga: price and submit → reserve → authorize → (wait for an asynchronous confirmation) → capture →
/// confirm the stock and the order (whose event empties the basket). Every step that succeeded pushes its
/// compensation; a refusal, a timeout, a technical failure that outlived the retries, or the shopper's cancellation
/// runs them in reverse. Five activities in a row: each costs a round of workflow messages and a turn, so steps that
/// follow each other anyway share one (docs/ordering.md).
/// The order read model is written where an order can rest: when it is submitted (by the first step), while it waits
/// for an asynchronous payment confirmation, and at its end (by the last step, or on its own when the saga fails). The steps
/// it passes in between (stock reserved, payment authorized, paid) last a fraction of a second: they are the workflow's
/// custom status (<see cref="CheckoutProgress"/>, saved with the workflow's own turn, no activity) until the next
/// record writes them into the order's timeline; reads of an unfinished order add them (docs/ordering.md).
/// Workflow code is replayed: it reads time only from the context and does I/O only through activities.
/// </summary>
public sealed class CheckoutWorkflow : Workflow<CheckoutInput, CheckoutOutcome>
{
    public const string PaymentConfirmationEvent = "PaymentConfirmation";
    public const string CancelEvent = "CancelOrder";

    public const string EmptyBasket = "Your basket is empty.";
    public const string CardDeclined = "Your card was declined.";
    public const string PaymentNotConfirmed = "The payment was not confirmed in time.";
    public const string PaymentNotTaken = "We could not take the payment. You have not been charged.";
    public const string SomethingWentWrong = "Sorry, something went wrong while placing your order. You have not been charged.";

    /// <summary>
    /// Activities throw only for technical failures (a 503, a timeout); business refusals come back as results,
    /// so retrying never repeats a refusal. Calls are idempotent by order id, so a retry never charges twice.
    /// </summary>
    internal static readonly WorkflowTaskOptions Retry = new(new WorkflowRetryPolicy(
        maxNumberOfAttempts: 5, firstRetryInterval: TimeSpan.FromSeconds(1), backoffCoefficient: 2, maxRetryInterval: TimeSpan.FromSeconds(30)));

    /// <summary>Between two rounds of <see cref="CompensationRetry"/> publishing an event the broker keeps refusing.</summary>
    internal static readonly TimeSpan AnnounceRetryAfter = TimeSpan.FromMinutes(5);

    /// <summary>Compensations must end: they retry longer.</summary>
    internal static readonly WorkflowTaskOptions CompensationRetry = new(new WorkflowRetryPolicy(
        maxNumberOfAttempts: 10, firstRetryInterval: TimeSpan.FromSeconds(1), backoffCoefficient: 2, maxRetryInterval: TimeSpan.FromMinutes(1)));

    public override async Task<CheckoutOutcome> RunAsync(WorkflowContext context, CheckoutInput input)
    {
        var order = input.Order;
        var lines = (IReadOnlyList<OrderLine>)[];
        Money? total = null;
        var compensations = new Stack<(string Activity, object Input)>();
        var progress = new Progress(context);
        // Started once: a cancellation raised at any time is seen at the next step.
        var cancellation = context.WaitForExternalEventAsync<CancelOrder>(CancelEvent);

        try
        {
            // Priced and recorded as submitted in one step; a basket that cannot be ordered is refused before any record.
            var priced = await StepAsync(context.CallActivityAsync<PricedBasket>(nameof(SubmitOrderActivity), new SubmitOrderInput(order, Now(context)), Retry), cancellation);
            if (priced.Problem is not null || priced.Total is null)
            {
                throw new CheckoutRefused(priced.Problem ?? EmptyBasket);
            }
            (lines, total) = (priced.Lines, priced.Total);

            // Pushed before the call: a reservation whose outcome is unknown (the call failed) is released too.
            compensations.Push((nameof(ReleaseReservationActivity), order.OrderId));
            var reservation = await StepAsync(context.CallActivityAsync<ReservationResult>(
                nameof(ReserveStockActivity), new ReserveStockInput(order.OrderId, lines, input.ReservationHoldSeconds), Retry), cancellation);
            if (!reservation.Reserved)
            {
                compensations.Pop(); // all lines or none: nothing was held
                throw new CheckoutRefused(OutOfStock(lines, reservation.ShortProductIds));
            }
            progress.Passed(OrderStatus.StockReserved);

            // Pushed before the call: an authorization whose outcome is unknown (the call failed) is voided too.
            compensations.Push((nameof(VoidPaymentActivity), order.OrderId));
            var payment = new PaymentInput(order.OrderId, total.Value, input.Card);
            var authorization = await StepAsync(context.CallActivityAsync<PaymentResult>(nameof(AuthorizePaymentActivity), payment, Retry), cancellation);
            if (authorization.Status == PaymentStatus.Pending)
            {
                // The order may wait here for minutes: recorded, so that lists and the back office's retry see it.
                await progress.RecordAsync(new(order, OrderStatus.AwaitingPaymentConfirmation, Now(context)));
                var confirmation = context.WaitForExternalEventAsync<PaymentConfirmation>(PaymentConfirmationEvent, input.PaymentConfirmationTimeout);
                var first = await Task.WhenAny(confirmation, cancellation);
                if (first == cancellation)
                {
                    throw new CheckoutCancelled(cancellation.Result.Reason);
                }
                PaymentConfirmation confirmed;
                try
                {
                    confirmed = await confirmation;
                }
                catch (TaskCanceledException)
                {
                    throw new CheckoutRefused(PaymentNotConfirmed);
                }
                if (!confirmed.Approved)
                {
                    throw new CheckoutRefused(CardDeclined);
                }
            }
            else if (authorization.Status is not (PaymentStatus.Approved or PaymentStatus.Captured))
            {
                compensations.Pop(); // a declined authorization holds no money
                throw new CheckoutRefused(CardDeclined);
            }
            progress.Passed(OrderStatus.PaymentAuthorized);

            // The last point of no return: after the capture the order goes through.
            if (cancellation.IsCompleted)
            {
                throw new CheckoutCancelled(cancellation.Result.Reason);
            }
            // A capture that failed after its retries counts as not taken: the void gives the money back if it was.
            if (await SucceedsAsync(context.CallActivityAsync<PaymentResult>(nameof(CapturePaymentActivity), order.OrderId, Retry)) is not { Status: PaymentStatus.Captured })
            {
                throw new CheckoutRefused(PaymentNotTaken);
            }
            progress.Passed(OrderStatus.Paid);

            // Paid: confirming the stock and recording the order end the saga. Should that step fail after its retries,
            // the money is refunded and whatever the reservation took is given back (sold units or open holds).
            compensations.Clear();
            compensations.Push((nameof(ReturnReservationActivity), order.OrderId));
            compensations.Push((nameof(RefundPaymentActivity), order.OrderId));
            // OrderConfirmed also tells the basket service to take what was bought out of the shopper's basket: an order
            // refused before keeps the basket, and the saga does not wait for it.
            await progress.RecordAsync(new(order, OrderStatus.Confirmed, Now(context),
                Announce: new(OrderEventKind.Confirmed, order, lines, total, null, Now(context))), nameof(ConfirmOrderActivity), Retry);
            return new CheckoutOutcome(OrderStatus.Confirmed, null);
        }
        catch (CheckoutCancelled cancelled)
        {
            await CompensateAsync(context, compensations);
            await progress.RecordAsync(new(order, OrderStatus.Cancelled, Now(context), Reason: cancelled.Message,
                Announce: new(OrderEventKind.Cancelled, order, lines, total, cancelled.Message, Now(context))));
            return new CheckoutOutcome(OrderStatus.Cancelled, cancelled.Message);
        }
        catch (Exception e) when (e is CheckoutRefused or WorkflowTaskFailedException)
        {
            // A technical failure's details are in the workflow history; the shopper reads a sentence.
            var reason = e is CheckoutRefused ? e.Message : SomethingWentWrong;
            await CompensateAsync(context, compensations);
            await progress.RecordAsync(new(order, OrderStatus.Failed, Now(context), Reason: reason,
                Announce: new(OrderEventKind.Failed, order, lines, total, reason, Now(context))));
            return new CheckoutOutcome(OrderStatus.Failed, reason);
        }
    }

    /// <summary>The step's result, or default when it failed after its retries (its effect is then unknown).</summary>
    private static async Task<T?> SucceedsAsync<T>(Task<T> step)
    {
        try
        {
            return await step;
        }
        catch (WorkflowTaskFailedException)
        {
            return default;
        }
    }

    /// <summary>Awaits a step to its end (its effect must be known to compensate it), then honours a cancellation that came first.</summary>
    private static async Task<T> StepAsync<T>(Task<T> step, Task<CancelOrder> cancellation)
    {
        var first = await Task.WhenAny(cancellation, step);
        var result = await step;
        if (first == cancellation)
        {
            throw new CheckoutCancelled(cancellation.Result.Reason);
        }
        return result;
    }

    private static async Task CompensateAsync(WorkflowContext context, Stack<(string Activity, object Input)> compensations)
    {
        while (compensations.TryPop(out var compensation))
        {
            try
            {
                await context.CallActivityAsync(compensation.Activity, compensation.Input, CompensationRetry);
            }
            catch (WorkflowTaskFailedException)
            {
                // Keep compensating the rest; the reservation expires by itself and the failure is in the history.
            }
        }
    }

    /// <summary>
    /// The steps passed since the order was last recorded: shown as the workflow's custom status, and written into the
    /// timeline by the next record (before its own status).
    /// </summary>
    private sealed class Progress(WorkflowContext context)
    {
        private readonly List<TimelineEntry> _unrecorded = [];

        public void Passed(OrderStatus status)
        {
            _unrecorded.Add(new TimelineEntry(status, Now(context)));
            context.SetCustomStatus(new CheckoutProgress([.. _unrecorded]));
        }

        /// <summary>
        /// Records through <paramref name="activity"/>: <see cref="RecordOrderActivity"/>, or a step that also records.
        /// Once the record is written its event must be heard: if the broker refused it, it is published again.
        /// </summary>
        public async Task RecordAsync(RecordOrderInput input, string activity = nameof(RecordOrderActivity), WorkflowTaskOptions? retry = null)
        {
            var steps = _unrecorded.ToList();
            var announced = await context.CallActivityAsync<bool>(activity, input with { Steps = steps.Count > 0 ? steps : null }, retry ?? CompensationRetry);
            _unrecorded.RemoveRange(0, steps.Count);
            if (steps.Count > 0)
            {
                context.SetCustomStatus(_unrecorded.Count > 0 ? new CheckoutProgress([.. _unrecorded]) : null);
            }
            if (!announced && input.Announce is { } e)
            {
                await AnnounceAsync(e);
            }
        }

        /// <summary>
        /// Publishes a recorded step's event until the broker takes it: a round of retries, then a durable wait, and
        /// again. The order stays as recorded meanwhile (a confirmed order is not compensated for a broker outage), and
        /// the checkout ends only once its event is out, so no event is lost however long the outage.
        /// </summary>
        private async Task AnnounceAsync(OrderEvent e)
        {
            while (true)
            {
                try
                {
                    await context.CallActivityAsync<bool>(nameof(PublishOrderEventActivity), e, CompensationRetry);
                    return;
                }
                catch (WorkflowTaskFailedException)
                {
                    await context.CreateTimer(AnnounceRetryAfter);
                }
            }
        }
    }

    private static DateTimeOffset Now(WorkflowContext context) => new(DateTime.SpecifyKind(context.CurrentUtcDateTime, DateTimeKind.Utc));

    internal static string OutOfStock(IReadOnlyList<OrderLine> lines, IReadOnlyList<string> shortProductIds)
    {
        var names = lines.Where(l => shortProductIds.Contains(l.ProductId)).Select(l => $"'{l.Name}'").ToList();
        return names.Count switch
        {
            0 => "Sorry, some items in your basket are out of stock.",
            1 => $"Sorry, {names[0]} is out of stock.",
            _ => $"Sorry, {string.Join(", ", names[..^1])} and {names[^1]} are out of stock.",
        };
    }

    private sealed class CheckoutRefused(string reason) : Exception(reason);

    private sealed class CheckoutCancelled(string reason) : Exception(reason);
}
