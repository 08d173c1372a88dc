using Dapr.Actors;
using DaprShop.Contracts;

namespace DaprShop.Inventory.Reservations;

/// <summary>What a reservation holds (its id is the actor's) and for how long, unless confirmed.</summary>
public sealed record ReserveLines(IReadOnlyList<BasketItemDto> Lines, int ExpiresInSeconds);

/// <summary>The answer to a reserve: the result, or a conflict with the reservation's state and why.</summary>
public sealed record ReserveAnswer(ReservationResult? Result, string? Conflict);

/// <summary>The answer to confirm or release: <see cref="Found"/> false for an unknown id; a conflict says why.</summary>
public sealed record TransitionAnswer(bool Found, string? Conflict);

/// <summary>
/// One actor per reservation (actor id = reservation id = order id). It arms its expiry reminder (carrying the lines)
/// before taking any stock, takes a hold on each SKU's actor, and gives back what it took when a line is short, so a
/// reservation is all lines or none. Its reminder releases the holds when the reservation expires unconfirmed, or when
/// a reserve was cut short before it saved the reservation.
/// </summary>
public interface IReservationActor : IActor
{
    Task<ReserveAnswer> ReserveAsync(ReserveLines request);
    Task<TransitionAnswer> ConfirmAsync();
    Task<TransitionAnswer> ReleaseAsync();
    /// <summary>Gives back whatever the reservation took: a confirmed one's sold units, an open one's holds (as release).</summary>
    Task<TransitionAnswer> ReturnAsync();
    Task<ReservationState?> GetAsync();
}
