using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
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

/// <summary>One order in the back office's list.</summary>
public sealed record OrderListEntry(string OrderId, string ShopperId, OrderStatus Status, Money? Total, DateTimeOffset SubmittedAt, string? FailureReason);

/// <summary><c>GET /api/v1/orders</c>: a page of the orders submitted in the last <c>days</c> days, newest first.</summary>
public sealed record OrderListPage(int Page, int PageSize, int TotalCount, IReadOnlyList<OrderListEntry> Items);

/// <summary>A validated <c>GET /api/v1/orders</c> query.</summary>
public sealed record OrderListQuery(OrderStatus? Status, int Page, int PageSize, int Days)
{
    public const int DefaultPageSize = 20;
    public const int MaxPageSize = 100;
    public const int DefaultDays = 30;
    public const int MaxDays = 366;
}

/// <summary><c>POST /api/v1/orders/{orderId}/retry</c>: the provider's answer that was raised into the checkout.</summary>
public sealed record RetryAccepted(string OrderId, PaymentStatus PaymentStatus);

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
        // Back office.
        api.MapGet("/orders", ListAsync).WithName("ListOrders");
        api.MapPost("/orders/{orderId}/retry", RetryAsync).WithName("RetryOrder");
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
        if (order is { IsFinished: true })
        {
            return TypedResults.Ok(View(order));
        }
        // Unfinished: the saga's steps since its last record are its custom status. No order yet: accepted, but the saga
        // has not recorded it yet.
        var state = await workflows.GetWorkflowStateAsync(orderId, getInputsAndOutputs: true, cancellationToken);
        if (order is null)
        {
            if (state?.Exists != true || state.ReadInputAs<CheckoutInput>() is not { } input)
            {
                return TypedResults.NotFound();
            }
            var h = input.Order;
            order = Order.Submit(h.OrderId, h.ShopperId, h.Email, h.ShippingAddress, h.SubmittedAt);
        }
        return TypedResults.Ok(View(WithProgress(order, state)));
    }

    /// <summary>The order with the steps its saga passed since it last recorded it (the workflow's custom status).</summary>
    private static Order WithProgress(Order order, WorkflowState? state)
    {
        if (state?.Exists == true && state.ReadCustomStatusAs<CheckoutProgress>() is { } progress)
        {
            foreach (var step in progress.Steps)
            {
                order.MoveTo(step.Status, step.At);
            }
        }
        return order;
    }

    public static async Task<Results<Ok<IReadOnlyList<OrderSummary>>, ValidationProblem>> GetHistoryAsync(
        string shopperId, DaprClient dapr, DaprWorkflowClient workflows, CancellationToken cancellationToken)
    {
        var history = await dapr.GetStateAsync<ShopperOrders?>(Components.StateStore, OrderReadModel.ShopperKey(shopperId), cancellationToken: cancellationToken);
        if (history is null || history.OrderIds.Count == 0)
        {
            return TypedResults.Ok<IReadOnlyList<OrderSummary>>([]);
        }
        var items = await dapr.GetBulkStateAsync<Order>(Components.StateStore, [.. history.OrderIds.Select(OrderReadModel.OrderKey)], parallelism: null, cancellationToken: cancellationToken);
        var orders = items.Where(i => i.Value is not null).ToDictionary(i => i.Value.OrderId, i => i.Value);
        // Few orders of a shopper are unfinished at a time: each of those asks its saga how far it got.
        foreach (var unfinished in orders.Values.Where(o => !o.IsFinished).ToList())
        {
            orders[unfinished.OrderId] = WithProgress(unfinished, await workflows.GetWorkflowStateAsync(unfinished.OrderId, getInputsAndOutputs: true, cancellationToken));
        }
        IReadOnlyList<OrderSummary> summaries = [.. history.OrderIds
            .Where(orders.ContainsKey)
            .Select(id => orders[id])
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

    /// <summary>
    /// Lists the orders submitted in the last <c>days</c> days (UTC), newest first, optionally of one status. Reads the
    /// per-day index shards in one bulk call, then the page's orders (all of the window's orders when filtering by status).
    /// </summary>
    public static async Task<Results<Ok<OrderListPage>, ValidationProblem>> ListAsync(
        string? status, string? page, string? pageSize, string? days, DaprClient dapr, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = ParseListQuery(status, page, pageSize, days, out var query);
        if (query is null)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var dayKeys = Enumerable.Range(0, query.Days).SelectMany(d => OrderReadModel.DayKeys(today.AddDays(-d))).ToList();
        var indexes = await dapr.GetBulkStateAsync<DayOrders>(Components.StateStore, dayKeys, parallelism: null, cancellationToken: cancellationToken);
        var ids = indexes.Where(i => i.Value is not null).SelectMany(i => i.Value.Orders)
            .OrderByDescending(o => o.SubmittedAt).ThenBy(o => o.OrderId, StringComparer.Ordinal)
            .Select(o => o.OrderId).Distinct(StringComparer.Ordinal).ToList();
        var skip = (query.Page - 1) * query.PageSize;
        if (query.Status is not { } wanted)
        {
            var orders = await ReadOrdersAsync(dapr, [.. ids.Skip(skip).Take(query.PageSize)], cancellationToken);
            return TypedResults.Ok(new OrderListPage(query.Page, query.PageSize, ids.Count, [.. orders.Select(ListEntry)]));
        }
        var matching = (await ReadOrdersAsync(dapr, ids, cancellationToken)).Where(o => o.Status == wanted).ToList();
        return TypedResults.Ok(new OrderListPage(query.Page, query.PageSize, matching.Count, [.. matching.Skip(skip).Take(query.PageSize).Select(ListEntry)]));
    }

    /// <summary>
    /// For an order waiting for the payment provider's asynchronous confirmation: asks the provider how the payment
    /// stands and, once it is decided, raises the same <see cref="PaymentConfirmation"/> the webhook raises, so a lost
    /// webhook does not leave the order waiting until the confirmation timeout fails it. Safe to repeat: the saga
    /// takes the first confirmation it receives and ignores the rest.
    /// </summary>
    public static async Task<Results<Accepted<RetryAccepted>, NotFound, ProblemHttpResult>> RetryAsync(
        string orderId, DaprClient dapr, DaprWorkflowClient workflows, IHttpClientFactory http, CancellationToken cancellationToken)
    {
        var order = await dapr.GetStateAsync<Order?>(Components.StateStore, OrderReadModel.OrderKey(orderId), cancellationToken: cancellationToken);
        if (order is null)
        {
            return TypedResults.NotFound();
        }
        if (order.Status != OrderStatus.AwaitingPaymentConfirmation)
        {
            return TypedResults.Problem(
                $"Only an order waiting for the payment provider's confirmation can be retried; this one is {order.Status}.",
                statusCode: StatusCodes.Status409Conflict, title: "Nothing to retry");
        }
        PaymentResult? payment;
        try
        {
            using var response = await http.CreateClient(AppIds.Payment).GetAsync($"internal/payments/{Uri.EscapeDataString(orderId)}", cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return TypedResults.Problem("The payment provider has no payment for this order.", statusCode: StatusCodes.Status409Conflict, title: "Unknown payment");
            }
            payment = response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<PaymentResult>(JsonSerializerOptions.Web, cancellationToken) : null;
        }
        catch (Exception e) when (e is HttpRequestException or JsonException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            payment = null;
        }
        if (payment is null)
        {
            return TypedResults.Problem("The payment provider could not be asked; try again shortly.", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Payment provider unavailable");
        }
        // The same reading of the provider's status as its own confirmation sender makes.
        PaymentConfirmation? confirmation = payment.Status switch
        {
            PaymentStatus.Approved or PaymentStatus.Captured or PaymentStatus.Refunded => new(orderId, Approved: true, Reason: null),
            PaymentStatus.Declined => new(orderId, Approved: false, payment.Reason),
            _ => null,
        };
        if (confirmation is null)
        {
            return TypedResults.Problem(
                $"The payment provider has not decided yet: the payment is {payment.Status}. Try again later.",
                statusCode: StatusCodes.Status409Conflict, title: "Payment not decided",
                extensions: new Dictionary<string, object?> { ["paymentStatus"] = payment.Status.ToString() });
        }
        await workflows.RaiseEventAsync(orderId, CheckoutWorkflow.PaymentConfirmationEvent, confirmation, cancellationToken);
        return TypedResults.Accepted($"/api/v1/orders/{Uri.EscapeDataString(orderId)}", new RetryAccepted(orderId, payment.Status));
    }

    internal static Dictionary<string, string[]> ParseListQuery(string? status, string? page, string? pageSize, string? days, out OrderListQuery? query)
    {
        var errors = new Dictionary<string, string[]>();
        query = null;
        OrderStatus? wanted = null;
        if (!string.IsNullOrWhiteSpace(status))
        {
            if (Enum.TryParse<OrderStatus>(status.Trim(), ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(status, out _))
            {
                wanted = parsed;
            }
            else
            {
                errors["status"] = [$"Must be one of {string.Join(", ", Enum.GetNames<OrderStatus>())}."];
            }
        }
        int Number(string field, string? value, int fallback, int max)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                return fallback;
            }
            if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 && n <= max)
            {
                return n;
            }
            errors[field] = [$"Must be a whole number from 1 to {max}."];
            return fallback;
        }
        var pageNumber = Number("page", page, 1, 100_000);
        var size = Number("pageSize", pageSize, OrderListQuery.DefaultPageSize, OrderListQuery.MaxPageSize);
        var window = Number("days", days, OrderListQuery.DefaultDays, OrderListQuery.MaxDays);
        if (errors.Count == 0)
        {
            query = new OrderListQuery(wanted, pageNumber, size, window);
        }
        return errors;
    }

    /// <summary>The orders of <paramref name="ids"/> that exist, in that order, read in bulk a chunk at a time.</summary>
    private static async Task<List<Order>> ReadOrdersAsync(DaprClient dapr, IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, Order>(StringComparer.Ordinal);
        foreach (var chunk in ids.Chunk(100))
        {
            var items = await dapr.GetBulkStateAsync<Order>(Components.StateStore, [.. chunk.Select(OrderReadModel.OrderKey)], parallelism: null, cancellationToken: cancellationToken);
            foreach (var item in items.Where(i => i.Value is not null))
            {
                found[item.Value.OrderId] = item.Value;
            }
        }
        return [.. ids.Where(found.ContainsKey).Select(id => found[id])];
    }

    private static OrderListEntry ListEntry(Order o) => new(o.OrderId, o.ShopperId, o.Status, o.Total, o.SubmittedAt, o.FailureReason);

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
            if (c.Number is null || !CardPattern().IsMatch(c.Number) || !CardNumbers.PassesLuhn(c.Number))
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
