using DaprShop.Inventory.Stock;
using FluentAssertions;

namespace DaprShop.Inventory.Tests;

public sealed class StockLevelTests
{
    [Fact]
    public void A_hold_moves_units_from_available_to_reserved()
    {
        var stock = new StockLevel(10);

        stock.Hold("order-1", 3).Should().Be(HoldOutcome.Held);

        (stock.OnHand, stock.Reserved, stock.Available).Should().Be((10, 3, 7));
    }

    [Fact]
    public void A_hold_for_more_than_is_available_is_short_and_changes_nothing()
    {
        var stock = new StockLevel(5);
        stock.Hold("order-1", 4);

        stock.Hold("order-2", 2).Should().Be(HoldOutcome.Short);

        (stock.Reserved, stock.Available).Should().Be((4, 1));
        stock.Holds.Should().NotContainKey("order-2");
    }

    [Fact]
    public void Holding_again_for_the_same_reservation_takes_nothing_more()
    {
        var stock = new StockLevel(5);
        stock.Hold("order-1", 2);

        stock.Hold("order-1", 2).Should().Be(HoldOutcome.AlreadyHeld);

        stock.Available.Should().Be(3);
    }

    [Fact]
    public void Confirming_takes_the_held_units_off_hand_once()
    {
        var stock = new StockLevel(10);
        stock.Hold("order-1", 4);

        stock.Confirm("order-1").Should().BeTrue();
        stock.Confirm("order-1").Should().BeFalse();

        (stock.OnHand, stock.Reserved, stock.Available).Should().Be((6, 0, 6));
    }

    [Fact]
    public void Releasing_gives_the_units_back_once()
    {
        var stock = new StockLevel(10);
        stock.Hold("order-1", 4);

        stock.Release("order-1").Should().BeTrue();
        stock.Release("order-1").Should().BeFalse();

        (stock.OnHand, stock.Reserved, stock.Available).Should().Be((10, 0, 10));
    }

    [Fact]
    public void Returning_puts_a_confirmed_reservations_units_back_on_hand_once()
    {
        var now = DateTimeOffset.UnixEpoch;
        var stock = new StockLevel(10);
        stock.Hold("order-1", 4);
        stock.Confirm("order-1");

        stock.Return("order-1", 4, now, TimeSpan.FromDays(7)).Should().BeTrue();
        StockLevel.From(stock.ToState()).Return("order-1", 4, now.AddDays(1), TimeSpan.FromDays(7)).Should().BeFalse("a repeated return, even after a reload, takes nothing more");
        stock.Return("order-1", 4, now.AddMinutes(5), TimeSpan.FromDays(7)).Should().BeFalse();

        (stock.OnHand, stock.Reserved, stock.Available).Should().Be((10, 0, 10));
    }

    [Fact]
    public void Returning_a_reservation_the_sku_still_holds_releases_the_hold_instead_of_adding_units()
    {
        // The reservation was confirmed, but its confirmation had not reached this SKU when it was returned.
        var now = DateTimeOffset.UnixEpoch;
        var stock = new StockLevel(10);
        stock.Hold("order-1", 4);

        stock.Return("order-1", 4, now, TimeSpan.FromDays(7)).Should().BeTrue();
        stock.Confirm("order-1").Should().BeFalse("a confirmation arriving after the return finds no hold to take");
        stock.Return("order-1", 4, now, TimeSpan.FromDays(7)).Should().BeFalse();

        (stock.OnHand, stock.Reserved, stock.Available).Should().Be((10, 0, 10));
    }

    [Fact]
    public void A_return_is_remembered_for_its_horizon_and_then_dropped_from_the_state()
    {
        var now = DateTimeOffset.UnixEpoch;
        var stock = new StockLevel(10);
        stock.Return("order-1", 1, now, TimeSpan.FromDays(7));

        stock.Return("order-2", 2, now.AddDays(8), TimeSpan.FromDays(7)).Should().BeTrue();

        stock.ToState().Returned.Should().BeEquivalentTo(new Dictionary<string, DateTimeOffset> { ["order-2"] = now.AddDays(8) });
        stock.OnHand.Should().Be(13);
        new StockLevel(5).ToState().Returned.Should().BeNull("a SKU that never took a return stores nothing for it");
    }

    [Fact]
    public void Available_never_goes_below_zero_however_holds_arrive()
    {
        var stock = new StockLevel(10);

        var granted = Enumerable.Range(0, 50).Count(i => stock.Hold($"order-{i}", 1 + (i % 3)) == HoldOutcome.Held);

        stock.Available.Should().BeGreaterThanOrEqualTo(0);
        stock.Reserved.Should().BeLessThanOrEqualTo(10);
        granted.Should().BeGreaterThan(0);
    }

    [Fact]
    public void Restocking_adds_to_on_hand_and_refuses_a_non_positive_quantity()
    {
        var stock = new StockLevel(2);

        stock.Restock(5);

        stock.OnHand.Should().Be(7);
        FluentActions.Invoking(() => stock.Restock(0)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void The_state_round_trips_with_its_holds()
    {
        var stock = new StockLevel(9);
        stock.Hold("a", 2);
        stock.Hold("b", 3);

        var again = StockLevel.From(stock.ToState());

        (again.OnHand, again.Reserved, again.Available).Should().Be((9, 5, 4));
        again.Release("a").Should().BeTrue();
    }

    [Fact]
    public void The_seed_gives_every_catalog_product_0_to_50_units_deterministically_and_a_few_none()
    {
        var seeded = Enumerable.Range(1, 500).Select(i => StockSeed.OpeningStock($"p-{i:0000}")).ToList();

        seeded.Should().OnlyContain(q => q.HasValue && q.Value >= 0 && q.Value <= 50);
        seeded.Count(q => q == 0).Should().BeInRange(1, 25);
        seeded.Select(q => q!.Value).Distinct().Count().Should().BeGreaterThan(40);
        StockSeed.OpeningStock("p-0001").Should().Be(StockSeed.OpeningStock("p-0001"));
        StockSeed.OpeningStock("p-0000").Should().BeNull();
        StockSeed.OpeningStock("p-0501").Should().BeNull();
        StockSeed.OpeningStock("x-0001").Should().BeNull();
    }
}
