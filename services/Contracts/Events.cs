namespace DaprShop.Contracts;

/// <summary>Money in minor units (cents) with an ISO 4217 currency: no floating point anywhere near a price.</summary>
public readonly record struct Money(long Amount, string Currency)
{
    public static Money Zero(string currency) => new(0, currency);

    public static Money operator +(Money a, Money b) =>
        a.Currency == b.Currency ? new(a.Amount + b.Amount, a.Currency) : throw new InvalidOperationException($"cannot add {a.Currency} to {b.Currency}");

    public Money Times(int quantity) => new(checked(Amount * quantity), Currency);

    public override string ToString() => $"{Amount / 100m:0.00} {Currency}";
}

public sealed record ProductChanged(string ProductId, string Name, string Category, string Brand, Money Price, DateTimeOffset ChangedAt);

public sealed record ProductPriceChanged(string ProductId, Money OldPrice, Money NewPrice, DateTimeOffset ChangedAt);

public sealed record ProductDeleted(string ProductId, DateTimeOffset DeletedAt);

public sealed record CatalogVersionChanged(long Version, DateTimeOffset ChangedAt);

public sealed record StockRestocked(string ProductId, int Quantity, int Available, DateTimeOffset At);

public sealed record StockLow(string ProductId, int Available, int Threshold, DateTimeOffset At);

public sealed record OrderLine(string ProductId, string Name, int Quantity, Money UnitPrice);

public sealed record OrderSubmitted(string OrderId, string ShopperId, string Email, IReadOnlyList<OrderLine> Lines, Money Total, DateTimeOffset At);

public sealed record OrderConfirmed(string OrderId, string ShopperId, string Email, IReadOnlyList<OrderLine> Lines, Money Total, DateTimeOffset At);

public sealed record OrderFailed(string OrderId, string ShopperId, string Email, string Reason, DateTimeOffset At);

public sealed record OrderCancelled(string OrderId, string ShopperId, string Email, string Reason, DateTimeOffset At);
