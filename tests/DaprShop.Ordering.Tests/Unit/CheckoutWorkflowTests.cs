using Dapr.Workflow;
using DaprShop.Contracts;
using DaprShop.Ordering.Activities;
using DaprShop.Ordering.Orders;
using DaprShop.Ordering.Workflows;
using FluentAssertions;

namespace DaprShop.Ordering.Tests.Unit;

public sealed class CheckoutWorkflowTests
{
    private static readonly OrderLine Lamp = new("p-lamp", "Lamp", 2, new Money(1_500, "EUR"));
    private static readonly OrderLine Mug = new("p-mug", "Mug", 1, new Money(900, "EUR"));

    private static readonly CheckoutInput Input = new(
        new OrderHeader("order-1", "shopper-1", "ada@example.com", new ShippingAddress("Ada", "1 Main St", null, "Paris", "75001", "FR"), DateTimeOffset.UnixEpoch),
        new CardDetails("4242424242424242", "Ada", "12/30", "123"),
        TimeSpan.FromSeconds(42),
        600);

    private readonly FakeWorkflowContext _context = new();

    public CheckoutWorkflowTests()
    {
        Answer(nameof(SubmitOrderActivity), new PricedBasket([Lamp, Mug], new Money(3_900, "EUR"), null));
        Answer(nameof(ReserveStockActivity), new ReservationResult("order-1", true, []));
        Answer(nameof(AuthorizePaymentActivity), new PaymentResult("order-1", PaymentStatus.Approved, null));
        Answer(nameof(CapturePaymentActivity), new PaymentResult("order-1", PaymentStatus.Captured, null));
    }

    private void Answer(string activity, object result) => _context.Activities[activity] = _ => result;

    private void Fail(string activity) => _context.Activities[activity] = _ =>
        throw new WorkflowTaskFailedException("failed after retries", new WorkflowTaskFailureDetails("HttpRequestException", "503", null));

    private Task<CheckoutOutcome> RunAsync() => _context.RunAsync(c => new CheckoutWorkflow().RunAsync(c, Input));

    private IEnumerable<string> Steps => _context.CallNames.Where(n => n is not nameof(RecordOrderActivity));

    /// <summary>
    /// The records the saga asked for after the first (which <see cref="SubmitOrderActivity"/> makes itself): on their own
    /// (<see cref="RecordOrderActivity"/>) or with the stock confirmation (<see cref="ConfirmOrderActivity"/>).
    /// </summary>
    private IEnumerable<RecordOrderInput> Records => _context.Calls.Select(c => c.Input).OfType<RecordOrderInput>();

    private IEnumerable<OrderStatus> Recorded => Records.Select(r => r.Status);

    /// <summary>The steps each record writes before its own status.</summary>
    private IEnumerable<string> RecordedWithSteps => Records.Select(r => string.Join(" ", (r.Steps ?? []).Select(s => s.Status).Append(r.Status)));

    /// <summary>The events the saga's records announce (the first, Submitted, is announced inside <see cref="SubmitOrderActivity"/>).</summary>
    private IEnumerable<OrderEventKind> Announced => Records.Select(r => r.Announce).OfType<OrderEvent>().Select(e => e.Kind);

    [Fact]
    public async Task A_happy_checkout_runs_five_steps_in_order_and_announces_the_confirmed_order()
    {
        var outcome = await RunAsync();

        outcome.Should().Be(new CheckoutOutcome(OrderStatus.Confirmed, null));
        Steps.Should().Equal(
            nameof(SubmitOrderActivity), nameof(ReserveStockActivity), nameof(AuthorizePaymentActivity),
            nameof(CapturePaymentActivity), nameof(ConfirmOrderActivity));
        RecordedWithSteps.Should().Equal("StockReserved PaymentAuthorized Paid Confirmed");
        Announced.Should().Equal(OrderEventKind.Confirmed);
    }

    [Fact]
    public async Task The_first_step_submits_the_order_as_checked_out_at_the_workflows_time()
    {
        await RunAsync();

        var submit = (SubmitOrderInput)_context.Calls.First().Input!;
        submit.Should().Be(new SubmitOrderInput(Input.Order, new DateTimeOffset(DateTime.SpecifyKind(_context.CurrentUtcDateTime, DateTimeKind.Utc))));
    }

    [Fact]
    public async Task The_steps_between_two_records_are_the_workflows_custom_status_until_the_next_record_writes_them()
    {
        await RunAsync();

        _context.CustomStatuses.Select(c => c is CheckoutProgress p ? string.Join(" ", p.Steps.Select(s => s.Status)) : "none").Should().Equal(
            "StockReserved", "StockReserved PaymentAuthorized", "StockReserved PaymentAuthorized Paid", "none");
        var steps = Records.Last().Steps!;
        steps.Select(s => s.At).Should().OnlyContain(at => at == new DateTimeOffset(DateTime.SpecifyKind(_context.CurrentUtcDateTime, DateTimeKind.Utc)));
    }

    [Fact]
    public async Task Each_step_starts_once_the_one_before_it_has_ended_so_every_turn_schedules_one_activity()
    {
        await RunAsync();

        _context.Started.Should().OnlyContain(s => s.Alongside.Count == 0);
    }

    [Fact]
    public async Task A_confirm_step_that_fails_after_the_capture_refunds_the_payment_and_gives_the_stock_back()
    {
        Fail(nameof(ConfirmOrderActivity));

        var outcome = await RunAsync();

        outcome.Should().Be(new CheckoutOutcome(OrderStatus.Failed, CheckoutWorkflow.SomethingWentWrong));
        Steps.Should().EndWith([nameof(ConfirmOrderActivity), nameof(RefundPaymentActivity), nameof(ReturnReservationActivity)]);
        Steps.Should().NotContain([nameof(VoidPaymentActivity), nameof(ReleaseReservationActivity)]);
        RecordedWithSteps.Should().EndWith("StockReserved PaymentAuthorized Paid Failed", "the failed order's timeline still shows how far it got");
    }

    [Fact]
    public async Task A_confirmed_order_whose_event_the_broker_refuses_stays_confirmed_and_is_announced_until_the_broker_takes_it()
    {
        Answer(nameof(ConfirmOrderActivity), false);
        var refusals = 2;
        _context.Activities[nameof(PublishOrderEventActivity)] = _ => refusals-- > 0
            ? throw new WorkflowTaskFailedException("failed after retries", new WorkflowTaskFailureDetails("DaprException", "pubsub unavailable", null))
            : true;

        var outcome = await RunAsync();

        outcome.Should().Be(new CheckoutOutcome(OrderStatus.Confirmed, null));
        Steps.Should().NotContain([nameof(RefundPaymentActivity), nameof(ReturnReservationActivity)], "the order is confirmed: a broker outage undoes nothing");
        var published = _context.Calls.Where(c => c.Name == nameof(PublishOrderEventActivity)).Select(c => c.Input).Cast<OrderEvent>().ToList();
        published.Should().HaveCount(3).And.OnlyContain(e => e.Kind == OrderEventKind.Confirmed && e.Order.OrderId == "order-1");
        _context.Timers.Should().Equal(CheckoutWorkflow.AnnounceRetryAfter, CheckoutWorkflow.AnnounceRetryAfter);
        Recorded.Should().NotContain(OrderStatus.Failed);
    }

    [Fact]
    public async Task A_failed_orders_event_the_broker_refused_is_published_again_before_the_checkout_ends()
    {
        Answer(nameof(AuthorizePaymentActivity), new PaymentResult("order-1", PaymentStatus.Declined, "declined"));
        Answer(nameof(RecordOrderActivity), false);

        var outcome = await RunAsync();

        outcome.Should().Be(new CheckoutOutcome(OrderStatus.Failed, CheckoutWorkflow.CardDeclined));
        _context.CallNames.Should().EndWith([nameof(RecordOrderActivity), nameof(PublishOrderEventActivity)]);
        _context.Calls.Last().Input.Should().BeOfType<OrderEvent>().Which.Kind.Should().Be(OrderEventKind.Failed);
        _context.Timers.Should().BeEmpty();
    }

    [Fact]
    public async Task A_record_whose_event_was_published_publishes_nothing_more()
    {
        await RunAsync();

        _context.CallNames.Should().NotContain(nameof(PublishOrderEventActivity));
    }

    [Fact]
    public async Task A_failed_authorization_voids_and_releases_and_the_failed_order_shows_its_reserved_step()
    {
        Fail(nameof(AuthorizePaymentActivity));

        var outcome = await RunAsync();

        outcome.Status.Should().Be(OrderStatus.Failed);
        Steps.Should().EndWith([nameof(VoidPaymentActivity), nameof(ReleaseReservationActivity)]);
        RecordedWithSteps.Should().Equal("StockReserved Failed");
    }

    [Fact]
    public async Task The_order_is_charged_the_catalog_total_under_the_order_id()
    {
        await RunAsync();

        var payment = (PaymentInput)_context.Calls.Single(c => c.Name == nameof(AuthorizePaymentActivity)).Input!;
        payment.Should().Be(new PaymentInput("order-1", new Money(3_900, "EUR"), Input.Card));
        var reserve = (ReserveStockInput)_context.Calls.Single(c => c.Name == nameof(ReserveStockActivity)).Input!;
        reserve.Should().Be(new ReserveStockInput("order-1", reserve.Lines, 600));
        reserve.Lines.Should().Equal(Lamp, Mug);
    }

    [Fact]
    public async Task A_declined_card_releases_the_reservation_and_fails_the_order_without_a_capture()
    {
        Answer(nameof(AuthorizePaymentActivity), new PaymentResult("order-1", PaymentStatus.Declined, "do_not_honor"));

        var outcome = await RunAsync();

        outcome.Should().Be(new CheckoutOutcome(OrderStatus.Failed, "Your card was declined."));
        Steps.Should().Equal(nameof(SubmitOrderActivity), nameof(ReserveStockActivity), nameof(AuthorizePaymentActivity), nameof(ReleaseReservationActivity));
        Recorded.Should().Equal(OrderStatus.Failed);
        Announced.Should().Equal(OrderEventKind.Failed);
    }

    [Fact]
    public async Task Out_of_stock_fails_the_order_naming_the_product_without_charging()
    {
        Answer(nameof(ReserveStockActivity), new ReservationResult("order-1", false, ["p-lamp"]));

        var outcome = await RunAsync();

        outcome.Should().Be(new CheckoutOutcome(OrderStatus.Failed, "Sorry, 'Lamp' is out of stock."));
        Steps.Should().Equal(nameof(SubmitOrderActivity), nameof(ReserveStockActivity));
    }

    [Fact]
    public async Task An_empty_basket_fails_before_anything_is_reserved()
    {
        Answer(nameof(SubmitOrderActivity), PricedBasket.Refused(CheckoutWorkflow.EmptyBasket));

        var outcome = await RunAsync();

        outcome.Should().Be(new CheckoutOutcome(OrderStatus.Failed, "Your basket is empty."));
        Steps.Should().Equal(nameof(SubmitOrderActivity));
        Recorded.Should().Equal(OrderStatus.Failed);
    }

    [Fact]
    public async Task A_pending_payment_confirmed_by_the_provider_completes_the_order()
    {
        Answer(nameof(AuthorizePaymentActivity), new PaymentResult("order-1", PaymentStatus.Pending, null));
        _context.Raise(CheckoutWorkflow.PaymentConfirmationEvent, new PaymentConfirmation("order-1", true, null));

        var outcome = await RunAsync();

        outcome.Status.Should().Be(OrderStatus.Confirmed);
        _context.EventTimeouts.Should().Equal(TimeSpan.FromSeconds(42));
        RecordedWithSteps.Should().Equal("StockReserved AwaitingPaymentConfirmation", "PaymentAuthorized Paid Confirmed");
    }

    [Fact]
    public async Task A_payment_confirmation_that_never_comes_voids_the_payment_then_releases_the_stock()
    {
        Answer(nameof(AuthorizePaymentActivity), new PaymentResult("order-1", PaymentStatus.Pending, null));
        _context.TimeOut(CheckoutWorkflow.PaymentConfirmationEvent);

        var outcome = await RunAsync();

        outcome.Should().Be(new CheckoutOutcome(OrderStatus.Failed, "The payment was not confirmed in time."));
        Steps.Should().Equal(nameof(SubmitOrderActivity), nameof(ReserveStockActivity), nameof(AuthorizePaymentActivity),
            nameof(VoidPaymentActivity), nameof(ReleaseReservationActivity));
    }

    [Fact]
    public async Task A_pending_payment_the_provider_declines_voids_and_releases()
    {
        Answer(nameof(AuthorizePaymentActivity), new PaymentResult("order-1", PaymentStatus.Pending, null));
        _context.Raise(CheckoutWorkflow.PaymentConfirmationEvent, new PaymentConfirmation("order-1", false, "3-D Secure failed"));

        var outcome = await RunAsync();

        outcome.Should().Be(new CheckoutOutcome(OrderStatus.Failed, "Your card was declined."));
        Steps.Should().EndWith([nameof(VoidPaymentActivity), nameof(ReleaseReservationActivity)]);
        Steps.Should().NotContain(nameof(CapturePaymentActivity));
    }

    [Fact]
    public async Task A_capture_that_fails_after_its_retries_voids_the_payment_and_releases_the_stock_never_confirmed()
    {
        Fail(nameof(CapturePaymentActivity));

        var outcome = await RunAsync();

        outcome.Should().Be(new CheckoutOutcome(OrderStatus.Failed, CheckoutWorkflow.PaymentNotTaken));
        Steps.Should().Equal(nameof(SubmitOrderActivity), nameof(ReserveStockActivity), nameof(AuthorizePaymentActivity),
            nameof(CapturePaymentActivity), nameof(VoidPaymentActivity), nameof(ReleaseReservationActivity));
        RecordedWithSteps.Should().EndWith("StockReserved PaymentAuthorized Failed", "nothing was paid");
    }

    [Fact]
    public async Task A_capture_the_provider_refuses_voids_the_payment_and_releases_the_stock()
    {
        Answer(nameof(CapturePaymentActivity), new PaymentResult("order-1", PaymentStatus.Voided, "a voided payment cannot be captured"));

        var outcome = await RunAsync();

        outcome.Should().Be(new CheckoutOutcome(OrderStatus.Failed, CheckoutWorkflow.PaymentNotTaken));
        Steps.Should().EndWith([nameof(CapturePaymentActivity), nameof(VoidPaymentActivity), nameof(ReleaseReservationActivity)]);
        Steps.Should().NotContain([nameof(ConfirmOrderActivity), nameof(RefundPaymentActivity), nameof(ReturnReservationActivity)]);
        Announced.Should().Equal(OrderEventKind.Failed);
    }

    [Fact]
    public async Task A_reservation_whose_outcome_is_unknown_is_released_and_nothing_is_charged()
    {
        Fail(nameof(ReserveStockActivity));

        var outcome = await RunAsync();

        outcome.Should().Be(new CheckoutOutcome(OrderStatus.Failed, CheckoutWorkflow.SomethingWentWrong));
        Steps.Should().Equal(nameof(SubmitOrderActivity), nameof(ReserveStockActivity), nameof(ReleaseReservationActivity));
        RecordedWithSteps.Should().Equal("Failed");
    }

    [Fact]
    public async Task A_submit_step_that_fails_after_its_retries_records_the_order_as_failed_and_touches_nothing_else()
    {
        Fail(nameof(SubmitOrderActivity));

        var outcome = await RunAsync();

        outcome.Should().Be(new CheckoutOutcome(OrderStatus.Failed, CheckoutWorkflow.SomethingWentWrong));
        Steps.Should().Equal(nameof(SubmitOrderActivity));
        Recorded.Should().Equal(OrderStatus.Failed);
    }

    [Fact]
    public async Task The_saga_leaves_the_basket_to_the_basket_service_which_hears_of_the_confirmed_order_from_its_event()
    {
        await RunAsync();

        Steps.Should().NotContain(s => s.Contains("Basket", StringComparison.Ordinal));
        var confirmed = Records.Last().Announce!;
        confirmed.Kind.Should().Be(OrderEventKind.Confirmed);
        confirmed.Order.ShopperId.Should().Be("shopper-1");
        confirmed.Lines.Should().Equal(Lamp, Mug);
    }

    [Fact]
    public async Task A_cancellation_while_waiting_for_the_payment_voids_releases_and_ends_cancelled()
    {
        Answer(nameof(AuthorizePaymentActivity), new PaymentResult("order-1", PaymentStatus.Pending, null));
        _context.RaiseWhileWaitingFor(CheckoutWorkflow.PaymentConfirmationEvent, CheckoutWorkflow.CancelEvent, new CancelOrder("Changed my mind"));

        var outcome = await RunAsync();

        outcome.Should().Be(new CheckoutOutcome(OrderStatus.Cancelled, "Changed my mind"));
        Steps.Should().EndWith([nameof(AuthorizePaymentActivity), nameof(VoidPaymentActivity), nameof(ReleaseReservationActivity)]);
        Announced.Should().EndWith(OrderEventKind.Cancelled);
    }

    [Fact]
    public async Task A_cancellation_raised_as_the_order_is_submitted_ends_it_before_any_stock_is_held()
    {
        _context.Raise(CheckoutWorkflow.CancelEvent, new CancelOrder("oops"));

        var outcome = await RunAsync();

        outcome.Should().Be(new CheckoutOutcome(OrderStatus.Cancelled, "oops"));
        Steps.Should().Equal(nameof(SubmitOrderActivity));
        Recorded.Should().Equal(OrderStatus.Cancelled);
        Announced.Should().Equal(OrderEventKind.Cancelled);
    }
}
