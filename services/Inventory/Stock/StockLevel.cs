namespace DaprShop.Inventory.Stock;

/// <summary>The stored state of one SKU: units on hand and the units each open reservation holds.</summary>
public sealed record StockState(int OnHand, IReadOnlyDictionary<string, int> Holds);

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
/// </summary>
public sealed class StockLevel
{
    private readonly Dictionary<string, int> _holds;

    public StockLevel(int onHand, IReadOnlyDictionary<string, int>? holds = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(onHand);
        OnHand = onHand;
        _holds = new Dictionary<string, int>(holds ?? new Dictionary<string, int>(), StringComparer.Ordinal);
    }

    public static StockLevel From(StockState state) => new(state.OnHand, state.Holds);

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

    public void Restock(int quantity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(quantity);
        OnHand = checked(OnHand + quantity);
    }

    public StockState ToState() => new(OnHand, new Dictionary<string, int>(_holds, StringComparer.Ordinal));
}
