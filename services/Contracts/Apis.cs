namespace DaprShop.Contracts;

// The request and answer shapes services exchange through Dapr service invocation. Public routes (/api/v1/...) are
// described by each service's OpenAPI document; internal routes (/internal/...) are only called by other services.

// ---- catalog ----------------------------------------------------------------------------------------------------
/// <summary>A product as the catalog serves it. <c>GET /api/v1/catalog/products/{productId}</c>.</summary>
public sealed record ProductDto(
    string ProductId,
    string Name,
    string Description,
    string Category,
    string Brand,
    Money Price,
    string PictureUrl,
    IReadOnlyDictionary<string, string> Attributes,
    bool Available);

/// <summary><c>POST /internal/catalog/prices</c>: the current price of each product, for checkout's re-pricing.</summary>
public sealed record PriceQuery(IReadOnlyList<string> ProductIds);

/// <summary>Products that do not exist (or are deleted) are missing from <see cref="Prices"/>.</summary>
public sealed record PriceAnswer(IReadOnlyDictionary<string, ProductPrice> Prices);

public sealed record ProductPrice(string ProductId, string Name, Money Price);

// ---- basket -----------------------------------------------------------------------------------------------------
/// <summary><c>GET /api/v1/baskets/{shopperId}</c>. The basket keeps quantities only: it never decides prices.</summary>
public sealed record BasketDto(string ShopperId, IReadOnlyList<BasketItemDto> Items, DateTimeOffset UpdatedAt);

public sealed record BasketItemDto(string ProductId, int Quantity);

// ---- inventory --------------------------------------------------------------------------------------------------
/// <summary><c>GET /api/v1/inventory/{productId}</c>.</summary>
public sealed record StockDto(string ProductId, int OnHand, int Reserved, int Available);

/// <summary><c>POST /internal/inventory/reservations</c>: all lines or none; idempotent by <see cref="ReservationId"/>.</summary>
public sealed record ReserveStock(string ReservationId, IReadOnlyList<BasketItemDto> Lines, int ExpiresInSeconds);

/// <summary>The outcome of a reservation: <see cref="Reserved"/> false names the lines that were short.</summary>
public sealed record ReservationResult(string ReservationId, bool Reserved, IReadOnlyList<string> ShortProductIds);

// <c>POST /internal/inventory/reservations/{reservationId}/confirm</c> and <c>.../release</c>: idempotent, 204.

// ---- ordering (public: what the storefront and partners read of an order) ------------------------------------------
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<OrderStatus>))]
public enum OrderStatus
{
    Submitted,
    StockReserved,
    AwaitingPaymentConfirmation,
    PaymentAuthorized,
    Paid,
    Confirmed,
    Failed,
    Cancelled,
}

public sealed record ShippingAddress(string Name, string Line1, string? Line2, string City, string PostalCode, string Country);

// ---- payment ----------------------------------------------------------------------------------------------------
/// <summary>Written as its name on the wire and in state (readers also accept the number).</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<PaymentStatus>))]
public enum PaymentStatus { Approved, Declined, Pending, Captured, Voided, Refunded }

/// <summary>
/// <c>POST /internal/payments/authorize</c>, idempotent by <see cref="PaymentId"/> (the order id). A card that needs an
/// asynchronous confirmation answers <see cref="PaymentStatus.Pending"/>; the provider later calls the partner
/// webhook, which raises <see cref="PaymentConfirmation"/> into the order's workflow.
/// </summary>
public sealed record AuthorizePayment(string PaymentId, Money Amount, string CardNumber, string CardHolder, string Expiry, string Cvc);

public sealed record PaymentResult(string PaymentId, PaymentStatus Status, string? Reason);

// <c>POST /internal/payments/{paymentId}/capture</c>, <c>/void</c>, <c>/refund</c>: idempotent, answer PaymentResult.

/// <summary>The asynchronous outcome of a pending authorization, raised into the checkout workflow as an external event.</summary>
public sealed record PaymentConfirmation(string PaymentId, bool Approved, string? Reason);

/// <summary>
/// How the payment provider signs its webhook to ordering: <see cref="SignatureHeader"/> carries
/// <c>sha256=</c> + the lowercase hex HMAC-SHA256 of the raw request body, keyed with the secret
/// <see cref="SigningKeySecret"/> from the secret store both sides read.
/// </summary>
public static class PaymentWebhook
{
    public const string SignatureHeader = "X-Payment-Signature";
    public const string SigningKeySecret = "payment:webhook-signing-key";

    public static string Sign(string key, ReadOnlySpan<byte> body) =>
        "sha256=" + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key), body));

    public static bool Verify(string key, ReadOnlySpan<byte> body, string? signature) =>
        signature is not null && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(Sign(key, body)), System.Text.Encoding.ASCII.GetBytes(signature));
}

/// <summary>Card numbers as every door of the checkout reads them (storefront form, ordering's API, the provider).</summary>
public static class CardNumbers
{
    /// <summary>The Luhn (mod 10) checksum every payment card number carries; <paramref name="digits"/> holds digits only.</summary>
    public static bool PassesLuhn(string digits)
    {
        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var d = digits[digits.Length - 1 - i] - '0';
            if (i % 2 == 1)
            {
                d = d * 2 > 9 ? d * 2 - 9 : d * 2;
            }
            sum += d;
        }
        return sum % 10 == 0;
    }
}
