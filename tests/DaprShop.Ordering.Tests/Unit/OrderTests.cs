using DaprShop.Contracts;
using DaprShop.Ordering.Orders;
using FluentAssertions;

namespace DaprShop.Ordering.Tests.Unit;

public sealed class OrderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static Order NewOrder() => Order.Submit("o-1", "s-1", "a@example.com", new ShippingAddress("A", "1 St", null, "Paris", "75001", "FR"), T0);

    [Fact]
    public void A_new_order_is_submitted_with_that_time_in_its_timeline()
    {
        var order = NewOrder();

        order.Status.Should().Be(OrderStatus.Submitted);
        order.Timeline.Should().Equal(new TimelineEntry(OrderStatus.Submitted, T0));
    }

    [Fact]
    public void The_total_is_the_sum_of_unit_price_times_quantity_in_minor_units()
    {
        var order = NewOrder();

        order.Price([new("p1", "Lamp", 3, new Money(1_999, "EUR")), new("p2", "Mug", 1, new Money(1, "EUR"))]);

        order.Total.Should().Be(new Money(5_998, "EUR"));
    }

    [Fact]
    public void Lines_in_two_currencies_cannot_be_totalled()
    {
        var act = () => Order.TotalOf([new("p1", "Lamp", 1, new Money(1, "EUR")), new("p2", "Mug", 1, new Money(1, "USD"))]);

        act.Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void The_saga_path_moves_the_order_step_by_step_to_confirmed()
    {
        var order = NewOrder();
        var steps = new[] { OrderStatus.StockReserved, OrderStatus.AwaitingPaymentConfirmation, OrderStatus.PaymentAuthorized, OrderStatus.Paid, OrderStatus.Confirmed };

        var outcomes = steps.Select((s, i) => order.MoveTo(s, T0.AddSeconds(i + 1))).ToList();

        outcomes.Should().AllBeEquivalentTo(TransitionOutcome.Applied);
        order.Status.Should().Be(OrderStatus.Confirmed);
        order.Timeline.Select(e => e.Status).Should().Equal([OrderStatus.Submitted, .. steps]);
        order.IsFinished.Should().BeTrue();
    }

    [Fact]
    public void A_step_applied_twice_changes_nothing_the_second_time()
    {
        var order = NewOrder();
        order.MoveTo(OrderStatus.StockReserved, T0.AddSeconds(1));

        var again = order.MoveTo(OrderStatus.StockReserved, T0.AddSeconds(9));

        again.Should().Be(TransitionOutcome.AlreadyApplied);
        order.Timeline.Should().HaveCount(2).And.Contain(new TimelineEntry(OrderStatus.StockReserved, T0.AddSeconds(1)));
    }

    [Fact]
    public void A_finished_order_refuses_any_further_step()
    {
        var order = NewOrder();
        order.MoveTo(OrderStatus.Failed, T0.AddSeconds(1), "Your card was declined.");

        order.MoveTo(OrderStatus.StockReserved, T0.AddSeconds(2)).Should().Be(TransitionOutcome.Refused);
        order.MoveTo(OrderStatus.Confirmed, T0.AddSeconds(2)).Should().Be(TransitionOutcome.Refused);
        order.Status.Should().Be(OrderStatus.Failed);
        order.FailureReason.Should().Be("Your card was declined.");
    }

    [Fact]
    public void An_order_cannot_skip_the_payment_to_be_confirmed()
    {
        var order = NewOrder();
        order.MoveTo(OrderStatus.StockReserved, T0);

        order.MoveTo(OrderStatus.Confirmed, T0).Should().Be(TransitionOutcome.Refused);
        order.Status.Should().Be(OrderStatus.StockReserved);
    }

    [Fact]
    public void An_order_can_be_cancelled_only_within_the_grace_period_and_before_it_is_finished()
    {
        var order = NewOrder();
        var grace = TimeSpan.FromMinutes(5);

        order.CanBeCancelled(T0.AddMinutes(4), grace).Should().BeTrue();
        order.CanBeCancelled(T0.AddMinutes(6), grace).Should().BeFalse();
        order.MoveTo(OrderStatus.Failed, T0.AddMinutes(1), "x");
        order.CanBeCancelled(T0.AddMinutes(2), grace).Should().BeFalse();
    }
}
