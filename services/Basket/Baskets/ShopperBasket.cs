using DaprShop.Contracts;

namespace DaprShop.Basket.Baskets;

/// <summary>Why a change to a basket was refused.</summary>
public enum BasketViolation
{
    None = 0,
    QuantityOutOfRange,
    TooManyLines,
    NotInBasket,
}

/// <summary>One line of a basket as it is stored: a product id and a quantity, never a price.</summary>
public sealed record BasketLine(string ProductId, int Quantity);

/// <summary>
/// The actor's stored state. <see cref="MergedFrom"/> remembers the last anonymous basket merged in (its id and
/// version), so a merge retried after a failure between "add here" and "clear there" does not count the lines twice.
/// </summary>
public sealed record BasketState(IReadOnlyList<BasketLine> Lines, DateTimeOffset UpdatedAt, string? MergedFrom = null)
{
    /// <summary>Whether the abandoned-basket reminder is registered (false in state stored before the flag existed: armed again on the next change).</summary>
    public bool ReminderArmed { get; init; }
}

/// <summary>
/// The basket rules: a quantity per line of 1..<see cref="MaxQuantity"/>, at most <see cref="MaxLines"/> lines, and
/// adding a product already in the basket adds to its line. A refused change leaves the basket as it was.
/// </summary>
public sealed class ShopperBasket
{
    public const int MaxQuantity = 99;
    public const int MaxLines = 50;

    // Insertion order is the order the shopper added products in, which is the order a basket page shows.
    private readonly List<BasketLine> _lines;

    public ShopperBasket(IEnumerable<BasketLine>? lines = null) => _lines = [.. lines ?? []];

    public IReadOnlyList<BasketLine> Lines => _lines;

    public bool IsEmpty => _lines.Count == 0;

    public BasketViolation Add(string productId, int quantity)
    {
        if (quantity is < 1 or > MaxQuantity)
        {
            return BasketViolation.QuantityOutOfRange;
        }
        var index = IndexOf(productId);
        if (index < 0)
        {
            if (_lines.Count >= MaxLines)
            {
                return BasketViolation.TooManyLines;
            }
            _lines.Add(new BasketLine(productId, quantity));
            return BasketViolation.None;
        }
        var total = _lines[index].Quantity + quantity;
        if (total > MaxQuantity)
        {
            return BasketViolation.QuantityOutOfRange;
        }
        _lines[index] = _lines[index] with { Quantity = total };
        return BasketViolation.None;
    }

    /// <summary>Sets a line's quantity; 0 removes the line.</summary>
    public BasketViolation SetQuantity(string productId, int quantity)
    {
        if (quantity is < 0 or > MaxQuantity)
        {
            return BasketViolation.QuantityOutOfRange;
        }
        var index = IndexOf(productId);
        if (index < 0)
        {
            return BasketViolation.NotInBasket;
        }
        if (quantity == 0)
        {
            _lines.RemoveAt(index);
        }
        else
        {
            _lines[index] = _lines[index] with { Quantity = quantity };
        }
        return BasketViolation.None;
    }

    /// <summary>Removes a line; false when it was not there (removing is idempotent).</summary>
    public bool Remove(string productId)
    {
        var index = IndexOf(productId);
        if (index < 0)
        {
            return false;
        }
        _lines.RemoveAt(index);
        return true;
    }

    public void Clear() => _lines.Clear();

    /// <summary>
    /// Takes out what an order bought: each line's quantity goes down by the ordered quantity, and a line with none
    /// left goes. What the shopper added after checking out stays.
    /// </summary>
    public void TakeOrdered(IEnumerable<BasketLine> ordered)
    {
        foreach (var line in ordered)
        {
            var index = IndexOf(line.ProductId);
            if (index < 0 || line.Quantity < 1)
            {
                continue;
            }
            var left = _lines[index].Quantity - line.Quantity;
            if (left > 0)
            {
                _lines[index] = _lines[index] with { Quantity = left };
            }
            else
            {
                _lines.RemoveAt(index);
            }
        }
    }

    /// <summary>
    /// Takes in the lines of another basket (an anonymous shopper's, at sign-in). Quantities add up and are capped at
    /// <see cref="MaxQuantity"/>; lines that would go past <see cref="MaxLines"/> are left out. Signing in must not
    /// fail because of a full basket, so the merge never refuses: it keeps as much as the rules allow.
    /// </summary>
    public void MergeFrom(IEnumerable<BasketLine> other)
    {
        foreach (var line in other)
        {
            if (line.Quantity < 1)
            {
                continue;
            }
            var index = IndexOf(line.ProductId);
            if (index >= 0)
            {
                _lines[index] = _lines[index] with { Quantity = Math.Min(MaxQuantity, _lines[index].Quantity + line.Quantity) };
            }
            else if (_lines.Count < MaxLines)
            {
                _lines.Add(new BasketLine(line.ProductId, Math.Min(MaxQuantity, line.Quantity)));
            }
        }
    }

    public BasketDto ToDto(string shopperId, DateTimeOffset updatedAt) =>
        new(shopperId, [.. _lines.Select(l => new BasketItemDto(l.ProductId, l.Quantity))], updatedAt);

    private int IndexOf(string productId) => _lines.FindIndex(l => string.Equals(l.ProductId, productId, StringComparison.Ordinal));
}
