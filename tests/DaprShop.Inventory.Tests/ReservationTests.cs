using DaprShop.Contracts;
using DaprShop.Inventory.Reservations;
using DaprShop.Inventory.Stock;
using FluentAssertions;

namespace DaprShop.Inventory.Tests;

public sealed class ReservationTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly BasketItemDto[] Lines = [new("p-0002", 1), new("p-0001", 2)];

    private static ReservationState In(ReservationStatus status) => Reservation.Open("order-1", Lines, Now.AddMinutes(15)) with { Status = status };

    [Fact]
    public void Lines_are_normalised_one_per_product_in_id_order()
    {
        Reservation.Normalize([new("p-2", 1), new("p-1", 2), new("p-2", 3)])
            .Should().Equal(new BasketItemDto("p-1", 2), new BasketItemDto("p-2", 4));
    }

    [Fact]
    public void A_new_reservation_is_pending_until_its_holds_are_taken()
    {
        var state = Reservation.Open("order-1", Lines, Now.AddMinutes(15));

        state.Status.Should().Be(ReservationStatus.Pending);
        state.OnReserve(Lines).Should().Be(Verdict.Proceed);
        state.IsOpen().Should().BeTrue();
    }

    [Theory]
    [InlineData(ReservationStatus.Held, Verdict.AlreadyDone)]
    [InlineData(ReservationStatus.Confirmed, Verdict.AlreadyDone)]
    [InlineData(ReservationStatus.Rejected, Verdict.AlreadyDone)]
    [InlineData(ReservationStatus.Released, Verdict.Conflict)]
    [InlineData(ReservationStatus.Expired, Verdict.Conflict)]
    public void Reserving_again_with_the_same_lines_answers_by_state(ReservationStatus status, Verdict verdict)
    {
        In(status).OnReserve([new("p-0001", 1), new("p-0001", 1), new("p-0002", 1)]).Should().Be(verdict);
    }

    [Fact]
    public void Reserving_again_under_the_same_id_with_other_lines_is_a_conflict()
    {
        In(ReservationStatus.Held).OnReserve([new("p-0001", 3)]).Should().Be(Verdict.Conflict);
    }

    [Theory]
    [InlineData(ReservationStatus.Held, Verdict.Proceed)]
    [InlineData(ReservationStatus.Confirmed, Verdict.AlreadyDone)]
    [InlineData(ReservationStatus.Pending, Verdict.Conflict)]
    [InlineData(ReservationStatus.Released, Verdict.Conflict)]
    [InlineData(ReservationStatus.Expired, Verdict.Conflict)]
    [InlineData(ReservationStatus.Rejected, Verdict.Conflict)]
    public void Only_a_held_reservation_can_be_confirmed(ReservationStatus status, Verdict verdict)
    {
        In(status).OnConfirm().Should().Be(verdict);
    }

    [Theory]
    [InlineData(ReservationStatus.Pending, Verdict.Proceed)]
    [InlineData(ReservationStatus.Held, Verdict.Proceed)]
    [InlineData(ReservationStatus.Released, Verdict.AlreadyDone)]
    [InlineData(ReservationStatus.Expired, Verdict.AlreadyDone)]
    [InlineData(ReservationStatus.Rejected, Verdict.AlreadyDone)]
    [InlineData(ReservationStatus.Confirmed, Verdict.Conflict)]
    public void Release_is_idempotent_and_refused_once_confirmed(ReservationStatus status, Verdict verdict)
    {
        In(status).OnRelease().Should().Be(verdict);
    }

    [Theory]
    [InlineData(ReservationStatus.Pending, StockFollowUp.None)]
    [InlineData(ReservationStatus.Held, StockFollowUp.None)]
    [InlineData(ReservationStatus.Confirmed, StockFollowUp.Confirm)]
    [InlineData(ReservationStatus.Released, StockFollowUp.Release)]
    [InlineData(ReservationStatus.Expired, StockFollowUp.Release)]
    [InlineData(ReservationStatus.Rejected, StockFollowUp.Release)]
    [InlineData(ReservationStatus.Returned, StockFollowUp.Return)]
    public void The_skus_follow_a_finished_reservations_decision_and_leave_an_open_ones_holds(ReservationStatus status, StockFollowUp followUp)
    {
        In(status).FollowUp().Should().Be(followUp);
    }

    [Fact]
    public void Only_an_open_reservation_past_its_expiry_has_expired()
    {
        In(ReservationStatus.Held).HasExpired(Now.AddMinutes(14)).Should().BeFalse();
        In(ReservationStatus.Held).HasExpired(Now.AddMinutes(15)).Should().BeTrue();
        In(ReservationStatus.Pending).HasExpired(Now.AddHours(1)).Should().BeTrue();
        In(ReservationStatus.Confirmed).HasExpired(Now.AddHours(1)).Should().BeFalse();
    }

    [Fact]
    public void The_result_is_reserved_only_when_held_or_confirmed_and_names_short_lines()
    {
        In(ReservationStatus.Held).ToResult().Reserved.Should().BeTrue();
        In(ReservationStatus.Confirmed).ToResult().Reserved.Should().BeTrue();
        var rejected = (In(ReservationStatus.Rejected) with { ShortProductIds = ["p-0002"] }).ToResult();
        rejected.Reserved.Should().BeFalse();
        rejected.ShortProductIds.Should().Equal("p-0002");
    }

    [Fact]
    public void A_reserve_request_is_validated_field_by_field()
    {
        InventoryApi.Validate(new ReserveStock("order-1", [new("p-0001", 1)], 60)).Should().BeNull();

        var problem = InventoryApi.Validate(new ReserveStock("bad id", [new("p-0001", 0), new("", 1)], 0));

        problem.Should().NotBeNull();
        problem!.ProblemDetails.Errors.Keys.Should().BeEquivalentTo("reservationId", "lines[0].quantity", "lines[1].productId", "expiresInSeconds");
        InventoryApi.Validate(new ReserveStock("order-1", [], 60))!.ProblemDetails.Errors.Keys.Should().Equal("lines");
    }
}
