using DaprShop.Contracts;
using DaprShop.Storefront.Services;
using DaprShop.Storefront.Shopping;
using FluentAssertions;

namespace DaprShop.Storefront.Tests.Unit;

public sealed class OrderProgressTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static OrderView Order(OrderStatus status, params OrderStatus[] timeline) =>
        new("o-1", "ada", status, [.. timeline.Select((s, i) => new TimelineEntry(s, T0.AddSeconds(i)))], [], null, null,
            new ShippingAddress("Ada", "1 Main St", null, "London", "N1", "GB"), T0);

    private static IEnumerable<(OrderStatus, StepState)> Shape(OrderView order) => OrderProgress.Steps(order).Select(s => (s.Status, s.State));

    [Fact]
    public void A_confirmed_order_shows_every_step_done()
    {
        var order = Order(OrderStatus.Confirmed, OrderStatus.Submitted, OrderStatus.StockReserved, OrderStatus.PaymentAuthorized, OrderStatus.Paid, OrderStatus.Confirmed);

        Shape(order).Should().Equal(
            (OrderStatus.Submitted, StepState.Done), (OrderStatus.StockReserved, StepState.Done), (OrderStatus.PaymentAuthorized, StepState.Done),
            (OrderStatus.Paid, StepState.Done), (OrderStatus.Confirmed, StepState.Done));
        OrderProgress.Steps(order)[3].At.Should().Be(T0.AddSeconds(3));
    }

    [Fact]
    public void An_order_waiting_for_the_bank_shows_that_step_and_what_comes_next()
    {
        var order = Order(OrderStatus.AwaitingPaymentConfirmation, OrderStatus.Submitted, OrderStatus.StockReserved, OrderStatus.AwaitingPaymentConfirmation);

        Shape(order).Should().Equal(
            (OrderStatus.Submitted, StepState.Done), (OrderStatus.StockReserved, StepState.Done), (OrderStatus.AwaitingPaymentConfirmation, StepState.Done),
            (OrderStatus.PaymentAuthorized, StepState.Current), (OrderStatus.Paid, StepState.Upcoming), (OrderStatus.Confirmed, StepState.Upcoming));
    }

    [Fact]
    public void A_failed_order_ends_with_its_failure_and_marks_the_steps_it_never_reached()
    {
        var order = Order(OrderStatus.Failed, OrderStatus.Submitted, OrderStatus.StockReserved, OrderStatus.Failed);

        Shape(order).Should().Equal(
            (OrderStatus.Submitted, StepState.Done), (OrderStatus.StockReserved, StepState.Done), (OrderStatus.PaymentAuthorized, StepState.NotReached),
            (OrderStatus.Paid, StepState.NotReached), (OrderStatus.Confirmed, StepState.NotReached), (OrderStatus.Failed, StepState.Failed));
    }

    [Fact]
    public void An_order_accepted_but_not_yet_recorded_is_received_with_reservation_under_way()
    {
        var order = Order(OrderStatus.Submitted);

        Shape(order).Take(2).Should().Equal((OrderStatus.Submitted, StepState.Done), (OrderStatus.StockReserved, StepState.Current));
        OrderProgress.Steps(order)[0].At.Should().Be(T0, "the submission time stands in for the first step");
    }
}
