using System.Text.RegularExpressions;
using Dapr.Client;
using Dapr.Workflow;
using DaprShop.Contracts;
using DaprShop.Ordering.Workflows;
using Grpc.Core;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace DaprShop.Ordering.Orders;

public sealed record CardRequest(string? Number, string? Holder, string? Expiry, string? Cvc);

public sealed record CheckoutRequest(string? ShopperId, string? Email, ShippingAddress? ShippingAddress, CardRequest? Card);

public sealed record CheckoutAccepted(string OrderId);

public sealed record OrderView(
    string OrderId, string ShopperId, OrderStatus Status, IReadOnlyList<TimelineEntry> Timeline,
    IReadOnlyList<OrderLine> Lines, Money? Total, string? FailureReason, ShippingAddress ShippingAddress, DateTimeOffset SubmittedAt);

public sealed record OrderSummary(string OrderId, OrderStatus Status, Money? Total, DateTimeOffset SubmittedAt);

public sealed record CancelRequest(string? Reason);

public static partial class OrdersApi
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    public static IEndpointRouteBuilder MapOrdersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Orders");
        api.MapPost("/orders", CheckoutAsync).WithName("Checkout");
        api.MapGet("/orders/{orderId}", GetOrderAsync).WithName("GetOrder");
        api.MapPost("/orders/{orderId}/cancel", CancelAsync).WithName("CancelOrder");
        api.MapGet("/shoppers/{shopperId}/orders", GetHistoryAsync).WithName("GetOrderHistory");
        return app;
    }

    /// <summary>
    /// Starts the checkout saga under the caller's Idempotency-Key as workflow instance id: the same key names the
    /// same order, so a retried request never starts a second saga (and never charges twice).
    /// </summary>
    public static async Task<Results<Accepted<CheckoutAccepted>, ValidationProblem>> CheckoutAsync(
        CheckoutRequest request,
        [FromHeader(Name = IdempotencyKeyHeader)] string? idempotencyKey,
        DaprWorkflowClient workflows,
        IOptions<OrderingOptions> options,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var errors = Validate(request, idempotencyKey);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var orderId = idempotencyKey!;
        var accepted = TypedResults.Accepted($"/api/v1/orders/{Uri.EscapeDataString(orderId)}", new CheckoutAccepted(orderId));

        // daprd starts a *finished* instance again under the same id: look first, so a repeated key is an answer, not a new run.
        var existing = await workflows.GetWorkflowStateAsync(orderId, getInputsAndOutputs: true, cancellationToken);
        if (existing?.Exists == true)
        {
            // A key reused for another shopper's checkout is a client bug, not a retry.
            return existing.ReadInputAs<CheckoutInput>()?.Order.ShopperId == request.ShopperId
                ? accepted
                : TypedResults.ValidationProblem(new Dictionary<string, string[]> { [IdempotencyKeyHeader] = ["This key was already used for another checkout."] });
        }
        var o = options.Value;
        var card = request.Card!;
        var input = new CheckoutInput(
            new OrderHeader(orderId, request.ShopperId!, request.Email!, request.ShippingAddress!, time.GetUtcNow()),
            new CardDetails(card.Number!, card.Holder!, card.Expiry!, card.Cvc!),
            o.PaymentConfirmationTimeout,
            (int)o.ReservationHold.TotalSeconds);
        try
        {
            await workflows.ScheduleNewWorkflowAsync(nameof(CheckoutWorkflow), orderId, input);
        }
        catch (RpcException e) when (e.Status.Detail.Contains("already exists", StringComparison.OrdinalIgnoreCase))
        {
            // A concurrent request with the same key won the race: same order.
        }
        return accepted;
    }

    public static async Task<Results<Ok<OrderView>, NotFound>> GetOrderAsync(
        string orderId, DaprClient dapr, DaprWorkflowClient workflows, CancellationToken cancellationToken)
    {
        var order = await dapr.GetStateAsync<Order?>(Components.StateStore, OrderReadModel.OrderKey(orderId), cancellationToken: cancellationToken);
        if (order is not null)
        {
            return TypedResults.Ok(View(order));
        }
        // Accepted, but the saga has not written its first step yet.
        var state = await workflows.GetWorkflowStateAsync(orderId, getInputsAndOutputs: true, cancellationToken);
        if (state?.Exists != true || state.ReadInputAs<CheckoutInput>() is not { } input)
        {
            return TypedResults.NotFound();
        }
        var h = input.Order;
        return TypedResults.Ok(View(Order.Submit(h.OrderId, h.ShopperId, h.Email, h.ShippingAddress, h.SubmittedAt)));
    }

    public static async Task<Results<Ok<IReadOnlyList<OrderSummary>>, ValidationProblem>> GetHistoryAsync(
        string shopperId, DaprClient dapr, CancellationToken cancellationToken)
    {
        var history = await dapr.GetStateAsync<ShopperOrders?>(Components.StateStore, OrderReadModel.ShopperKey(shopperId), cancellationToken: cancellationToken);
        if (history is null || history.OrderIds.Count == 0)
        {
            return TypedResults.Ok<IReadOnlyList<OrderSummary>>([]);
        }
        var items = await dapr.GetBulkStateAsync<Order>(Components.StateStore, [.. history.OrderIds.Select(OrderReadModel.OrderKey)], parallelism: null, cancellationToken: cancellationToken);
        var orders = items.Where(i => i.Value is not null).ToDictionary(i => i.Value.OrderId);
        IReadOnlyList<OrderSummary> summaries = [.. history.OrderIds
            .Where(orders.ContainsKey)
            .Select(id => orders[id].Value)
            .Select(o => new OrderSummary(o.OrderId, o.Status, o.Total, o.SubmittedAt))];
        return TypedResults.Ok(summaries);
    }

    /// <summary>
    /// Asks the saga to cancel: it stops at its next step and compensates. Once the payment is captured the order
    /// goes through, so the answer is 202 and the order's status tells the outcome.
    /// </summary>
    public static async Task<Results<Accepted, NotFound, ProblemHttpResult>> CancelAsync(
        string orderId, CancelRequest? request, DaprClient dapr, DaprWorkflowClient workflows,
        IOptions<OrderingOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        var order = await dapr.GetStateAsync<Order?>(Components.StateStore, OrderReadModel.OrderKey(orderId), cancellationToken: cancellationToken);
        if (order is null)
        {
            var state = await workflows.GetWorkflowStateAsync(orderId, getInputsAndOutputs: false, cancellationToken);
            if (state?.Exists != true)
            {
                return TypedResults.NotFound();
            }
        }
        else if (!order.CanBeCancelled(time.GetUtcNow(), options.Value.CancellationGracePeriod))
        {
            return TypedResults.Problem(
                order.IsFinished ? $"The order is already {order.Status.ToString().ToLowerInvariant()}." : "The order can no longer be cancelled.",
                statusCode: StatusCodes.Status409Conflict, title: "Order cannot be cancelled");
        }
        await workflows.RaiseEventAsync(orderId, CheckoutWorkflow.CancelEvent, new CancelOrder(request?.Reason ?? "Cancelled at your request."), cancellationToken);
        return TypedResults.Accepted($"/api/v1/orders/{orderId}");
    }

    internal static Dictionary<string, string[]> Validate(CheckoutRequest request, string? idempotencyKey)
    {
        var errors = new Dictionary<string, string[]>();
        void Require(string field, string? value, string message)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                errors[field] = [message];
            }
        }
        if (string.IsNullOrWhiteSpace(idempotencyKey))
        {
            errors[IdempotencyKeyHeader] = ["The Idempotency-Key header is required: it makes a retried checkout return the same order."];
        }
        else if (!KeyPattern().IsMatch(idempotencyKey))
        {
            errors[IdempotencyKeyHeader] = ["Use 1 to 64 letters, digits, '-' or '_'."];
        }
        if (request.ShopperId is null || !KeyPattern().IsMatch(request.ShopperId))
        {
            errors["shopperId"] = ["The shopper id is required: 1 to 64 letters, digits, '-' or '_'."];
        }
        Require("email", request.Email, "An e-mail address is required.");
        if (!string.IsNullOrWhiteSpace(request.Email) && !EmailPattern().IsMatch(request.Email))
        {
            errors["email"] = ["The e-mail address is not valid."];
        }
        if (request.ShippingAddress is not { } a)
        {
            errors["shippingAddress"] = ["A shipping address is required."];
        }
        else
        {
            Require("shippingAddress.name", a.Name, "The recipient's name is required.");
            Require("shippingAddress.line1", a.Line1, "The street address is required.");
            Require("shippingAddress.city", a.City, "The city is required.");
            Require("shippingAddress.postalCode", a.PostalCode, "The postal code is required.");
            if (a.Country is null || !CountryPattern().IsMatch(a.Country))
            {
                errors["shippingAddress.country"] = ["Use the ISO 3166 two-letter country code."];
            }
        }
        if (request.Card is not { } c)
        {
            errors["card"] = ["A card is required."];
        }
        else
        {
            if (c.Number is null || !CardPattern().IsMatch(c.Number) || !Luhn(c.Number))
            {
                errors["card.number"] = ["The card number is not valid."];
            }
            Require("card.holder", c.Holder, "The card holder's name is required.");
            if (c.Expiry is null || !ExpiryPattern().IsMatch(c.Expiry))
            {
                errors["card.expiry"] = ["Use MM/YY."];
            }
            if (c.Cvc is null || !CvcPattern().IsMatch(c.Cvc))
            {
                errors["card.cvc"] = ["Use the 3 or 4 digits on the card."];
            }
        }
        return errors;
    }

    internal static bool Luhn(string number)
    {
        var sum = 0;
        for (var i = 0; i < number.Length; i++)
        {
            var d = number[number.Length - 1 - i] - '0';
            if (i % 2 == 1)
            {
                d = d * 2 > 9 ? d * 2 - 9 : d * 2;
            }
            sum += d;
        }
        return sum % 10 == 0;
    }

    private static OrderView View(Order o) =>
        new(o.OrderId, o.ShopperId, o.Status, o.Timeline, o.Lines, o.Total, o.FailureReason, o.ShippingAddress, o.SubmittedAt);

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex KeyPattern();

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    private static partial Regex EmailPattern();

    [GeneratedRegex("^[A-Z]{2}$")]
    private static partial Regex CountryPattern();

    [GeneratedRegex("^[0-9]{12,19}$")]
    private static partial Regex CardPattern();

    [GeneratedRegex("^(0[1-9]|1[0-2])/[0-9]{2}$")]
    private static partial Regex ExpiryPattern();

    [GeneratedRegex("^[0-9]{3,4}$")]
    private static partial Regex CvcPattern();
}
