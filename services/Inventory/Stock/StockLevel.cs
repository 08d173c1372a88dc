namespace DaprShop.Inventory.Stock;

/// <summary>
/// The stored state of one SKU: units on hand, the units each open reservation holds, and when the reservations whose
/// sold units came back (<see cref="StockLevel.Return"/>) were returned (absent in state written before returns existed).
/// </summary>
public sealed record StockState(int OnHand, IReadOnlyDictionary<string, int> Holds, IReadOnlyDictionary<string, DateTimeOffset>? Returned = null);

public enum HoldOutcome
{
    Held,
    AlreadyHeld,
    Short,
}

/// <summary>
/// One SKU's stock. Reserved = the sum of the holds; available = on hand − reserved, and a hold is only granted
/// from what is available, so available never goes below zero. Holds are keyed by reservation id, which makes
/// hold, release and confirm idempotent: a retried call finds its own hold (or its absence) and changes nothing.
/// A return (sold units coming back) leaves no hold to find, so the SKU remembers the reservations it took returns for.
/// </summary>
public sealed class StockLevel
{
    private readonly Dictionary<string, int> _holds;
    private readonly Dictionary<string, DateTimeOffset> _returned;

    public StockLevel(int onHand, IReadOnlyDictionary<string, int>? holds = null, IReadOnlyDictionary<string, DateTimeOffset>? returned = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(onHand);
        OnHand = onHand;
        _holds = new Dictionary<string, int>(holds ?? new Dictionary<string, int>(), StringComparer.Ordinal);
        _returned = new Dictionary<string, DateTimeOffset>(returned ?? new Dictionary<string, DateTimeOffset>(), StringComparer.Ordinal);
    }

    public static StockLevel From(StockState state) => new(state.OnHand, state.Holds, state.Returned);

    public int OnHand { get; private set; }
    public int Reserved => _holds.Values.Sum();
    public int Available => OnHand - Reserved;
    public IReadOnlyDictionary<string, int> Holds => _holds;

    public HoldOutcome Hold(string reservationId, int quantity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(quantity);
        if (_holds.ContainsKey(reservationId))
        {
            return HoldOutcome.AlreadyHeld;
        }
        if (quantity > Available)
        {
            return HoldOutcome.Short;
        }
        _holds[reservationId] = quantity;
        return HoldOutcome.Held;
    }

    /// <summary>Gives the held units back to available; false when there was no such hold.</summary>
    public bool Release(string reservationId) => _holds.Remove(reservationId);

    /// <summary>The held units leave on-hand for good; false when there was no such hold (already confirmed or released).</summary>
    public bool Confirm(string reservationId)
    {
        if (!_holds.Remove(reservationId, out var quantity))
        {
            return false;
        }
        OnHand -= quantity;
        return true;
    }

    /// <summary>
    /// The units a confirmed reservation took come back on hand (its sale did not go through); false when this
    /// reservation's return was already taken. A reservation this SKU still holds — confirmed, but cut short before its
    /// confirmation reached this SKU — has its hold released instead: its units never left. Returns are remembered for
    /// <paramref name="rememberFor"/>, long enough for any retry of the same return; older ones are forgotten as new
    /// ones arrive, so the state stays small.
    /// </summary>
    public bool Return(string reservationId, int quantity, DateTimeOffset now, TimeSpan rememberFor)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(quantity);
        if (_returned.ContainsKey(reservationId))
        {
            return false;
        }
        foreach (var (id, at) in _returned.ToList())
        {
            if (now - at > rememberFor)
            {
                _returned.Remove(id);
            }
        }
        if (!_holds.Remove(reservationId))
        {
            OnHand = checked(OnHand + quantity);
        }
        _returned[reservationId] = now;
        return true;
    }

    public void Restock(int quantity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(quantity);
        OnHand = checked(OnHand + quantity);
    }

    public StockState ToState() => new(OnHand, new Dictionary<string, int>(_holds, StringComparer.Ordinal),
        _returned.Count == 0 ? null : new Dictionary<string, DateTimeOffset>(_returned, StringComparer.Ordinal));
}
