using System.Text.Json.Serialization;
using DaprShop.Contracts;

namespace DaprShop.Storefront.Services;

// The shapes of the services' public APIs that DaprShop.Contracts does not hold (they belong to one service's
// public surface). They mirror the JSON of those routes; Contracts' DTOs are used for everything else.

// ---- catalog: GET /api/v1/catalog/products, /categories, /brands; back office PUT/POST ---------------------------
public sealed record CatalogPage(int Page, int PageSize, int TotalCount, int TotalPages, IReadOnlyList<ProductDto> Items);

public sealed record Facet(string Name, int ProductCount);

public sealed record ProductInput(string Name, string Description, string Category, string Brand, PriceInput Price, IReadOnlyDictionary<string, string> Attributes);

public sealed record PriceInput(long Amount, string Currency);

// ---- basket --------------------------------------------------------------------------------------------------------
public sealed record AddBasketItem(string ProductId, int Quantity);

public sealed record SetBasketItemQuantity(int Quantity);

// ---- ordering ------------------------------------------------------------------------------------------------------
public sealed record CardRequest(string Number, string Holder, string Expiry, string Cvc);

/// <summary><c>POST /api/v1/orders</c> with an <c>Idempotency-Key</c>: who, where and how to pay; never a price.</summary>
public sealed record CheckoutRequest(string ShopperId, string? Email, ShippingAddress ShippingAddress, CardRequest Card);

public sealed record CheckoutAccepted(string OrderId);

public sealed record TimelineEntry(OrderStatus Status, DateTimeOffset At);

public sealed record OrderView(
    string OrderId, string ShopperId, OrderStatus Status, IReadOnlyList<TimelineEntry> Timeline,
    IReadOnlyList<OrderLine> Lines, Money? Total, string? FailureReason, ShippingAddress ShippingAddress, DateTimeOffset SubmittedAt)
{
    public bool IsFinished => Status is OrderStatus.Confirmed or OrderStatus.Failed or OrderStatus.Cancelled;
}

public sealed record OrderSummary(string OrderId, OrderStatus Status, Money? Total, DateTimeOffset SubmittedAt);

public sealed record OrderListEntry(string OrderId, string ShopperId, OrderStatus Status, Money? Total, DateTimeOffset SubmittedAt, string? FailureReason);

public sealed record OrderListPage(int Page, int PageSize, int TotalCount, IReadOnlyList<OrderListEntry> Items);

public sealed record CancelRequest(string? Reason);

/// <summary>An RFC 7807 answer as far as the storefront reads it.</summary>
public sealed record ProblemAnswer(string? Title, string? Detail, int? Status, Dictionary<string, string[]>? Errors);
