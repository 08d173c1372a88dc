using DaprShop.Contracts;

namespace DaprShop.Inventory.Reservations;

public enum ReservationStatus
{
    /// <summary>
    /// Holds being taken. Kept in memory during a reserve, not saved (earlier versions saved it first): the expiry
    /// reminder, armed before any hold and carrying the lines, guards a reserve cut short.
    /// </summary>
    Pending,
    Held,
    Confirmed,
    Released,
    Expired,
    /// <summary>Some line was short: nothing is held, and the same id answers the same "no" again.</summary>
    Rejected,
    /// <summary>Confirmed, then its sale did not go through (the payment was not taken): the units are back on hand.</summary>
    Returned,
}

/// <summary>The stored state of one reservation (actor id = reservation id = order id).</summary>
public sealed record ReservationState(
    string ReservationId,
    IReadOnlyList<BasketItemDto> Lines,
    ReservationStatus Status,
    DateTimeOffset ExpiresAt,
    IReadOnlyList<string> ShortProductIds);

/// <summary>How a request against a reservation's current state is answered.</summary>
public enum Verdict
{
    /// <summary>Do the work (take holds, confirm or release them).</summary>
    Proceed,
    /// <summary>Already done: answer as the first time, change nothing.</summary>
    AlreadyDone,
    /// <summary>Refused by the reservation's state (or, for reserve, other lines under the same id).</summary>
    Conflict,
}

/// <summary>What each SKU of a reservation does once the reservation has decided (<see cref="Reservation.FollowUp"/>).</summary>
public enum StockFollowUp
{
    /// <summary>Open: the holds stay as they are.</summary>
    None,
    /// <summary>The held units leave on-hand.</summary>
    Confirm,
    /// <summary>The holds go back to available.</summary>
    Release,
    /// <summary>Sold units come back on hand (or a hold a confirmation never reached is released).</summary>
    Return,
}

/// <summary>
/// The reservation state machine:
/// <code>
/// Pending ──all held──▶ Held ──confirm──▶ Confirmed ──return──▶ Returned
///    │                   │ ├──release──▶ Released
///    └──a line short──▶ Rejected └──expiry───▶ Expired
/// </code>
/// Confirm is refused once released or expired (the stock may be sold to someone else). Release is idempotent and a
/// no-op once released, expired or rejected; releasing a confirmed reservation is refused (409): the units have left
/// the warehouse, and giving stock back after a sale is a return, not a release. A return (the saga's compensation
/// when its last step, confirming the stock and recording the order, fails) puts a confirmed reservation's units back on hand,
/// and releases a reservation that is still open. Releasing (or returning) an id never reserved leaves
/// a Released tombstone, so a reserve that arrives late (a retry overtaken by the saga's compensation) is refused
/// instead of holding stock nobody will confirm.
/// </summary>
public static class Reservation
{
    public const int MaxLines = 50;
    public const int MaxQuantity = 10_000;
    public const int MaxExpiresInSeconds = 24 * 60 * 60;

    /// <summary>One line per product (duplicates added up), in product-id order.</summary>
    public static IReadOnlyList<BasketItemDto> Normalize(IEnumerable<BasketItemDto> lines) =>
        [.. lines.GroupBy(l => l.ProductId, StringComparer.Ordinal)
            .Select(g => new BasketItemDto(g.Key, g.Sum(l => l.Quantity)))
            .OrderBy(l => l.ProductId, StringComparer.Ordinal)];

    public static ReservationState Open(string reservationId, IReadOnlyList<BasketItemDto> lines, DateTimeOffset expiresAt) =>
        new(reservationId, Normalize(lines), ReservationStatus.Pending, expiresAt, []);

    public static bool IsOpen(this ReservationState state) => state.Status is ReservationStatus.Pending or ReservationStatus.Held;

    public static bool HasExpired(this ReservationState state, DateTimeOffset now) => state.IsOpen() && now >= state.ExpiresAt;

    public static Verdict OnReserve(this ReservationState state, IReadOnlyList<BasketItemDto> lines)
    {
        if (!Normalize(lines).SequenceEqual(state.Lines))
        {
            return Verdict.Conflict;
        }
        return state.Status switch
        {
            ReservationStatus.Pending => Verdict.Proceed,
            ReservationStatus.Held or ReservationStatus.Confirmed or ReservationStatus.Rejected => Verdict.AlreadyDone,
            _ => Verdict.Conflict,
        };
    }

    public static Verdict OnConfirm(this ReservationState state) => state.Status switch
    {
        ReservationStatus.Held => Verdict.Proceed,
        ReservationStatus.Confirmed => Verdict.AlreadyDone,
        _ => Verdict.Conflict,
    };

    public static Verdict OnRelease(this ReservationState state) => state.Status switch
    {
        ReservationStatus.Pending or ReservationStatus.Held => Verdict.Proceed,
        ReservationStatus.Confirmed => Verdict.Conflict,
        _ => Verdict.AlreadyDone,
    };

    /// <summary>
    /// What the SKUs must do to follow a reservation's stored status. The reservation saves its decision first and the
    /// SKUs follow it, so a call cut short between the two leaves SKUs behind, never ahead: repeating the call, or the
    /// expiry reminder firing, applies the follow-up again (every SKU call is idempotent per reservation).
    /// </summary>
    public static StockFollowUp FollowUp(this ReservationState state) => state.Status switch
    {
        ReservationStatus.Confirmed => StockFollowUp.Confirm,
        ReservationStatus.Released or ReservationStatus.Expired or ReservationStatus.Rejected => StockFollowUp.Release,
        ReservationStatus.Returned => StockFollowUp.Return,
        _ => StockFollowUp.None,
    };

    public static ReservationResult ToResult(this ReservationState state) =>
        new(state.ReservationId, state.Status is ReservationStatus.Held or ReservationStatus.Confirmed, state.ShortProductIds);
}
