using Dapr.Actors;
using Dapr.Actors.Client;
using Dapr.Client;
using DaprShop.Contracts;
using DaprShop.Payment.Confirmations;
using DaprShop.Payment.Simulation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace DaprShop.Payment.Payments;

/// <summary>A payment as the provider's back office sees it, with its ledger.</summary>
public sealed record PaymentDetails(string PaymentId, PaymentStatus Status, string? Reason, Money Amount, string CardLast4, IReadOnlyList<LedgerEntry> Ledger);

/// <summary>
/// The provider's internal API, called by ordering through Dapr service invocation. Every operation is idempotent by
/// payment id (the order id): repeat any call and you get the same answer, never a second charge. A refused
/// transition (void after capture, refund before capture, ...) is a 409 problem whose <c>paymentStatus</c> extension is the
/// payment's current status.
/// </summary>
public static class PaymentsApi
{
    public static RouteGroupBuilder MapPaymentsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/internal/payments")
            .WithTags("Payments")
            .AddEndpointFilter<ProviderSimulationFilter>();

        api.MapPost("/authorize", AuthorizeAsync);
        api.MapPost("/{paymentId}/capture", (string paymentId, DaprClient dapr, TimeProvider clock, CancellationToken ct) =>
            TransitionAsync(paymentId, p => p.Capture(clock.GetUtcNow()), dapr, ct));
        api.MapPost("/{paymentId}/void", (string paymentId, DaprClient dapr, TimeProvider clock, CancellationToken ct) =>
            TransitionAsync(paymentId, p => p.Void(clock.GetUtcNow()), dapr, ct));
        api.MapPost("/{paymentId}/refund", (string paymentId, DaprClient dapr, TimeProvider clock, CancellationToken ct) =>
            TransitionAsync(paymentId, p => p.Refund(clock.GetUtcNow()), dapr, ct));
        api.MapGet("/{paymentId}", GetAsync);
        return api;
    }

    public static async Task<Results<Ok<PaymentResult>, ValidationProblem, ProblemHttpResult>> AuthorizeAsync(
        AuthorizePayment request,
        DaprClient dapr,
        IActorProxyFactory actors,
        IOptions<PaymentOptions> options,
        TimeProvider clock,
        ILogger<PaymentDetails> logger,
        CancellationToken cancellationToken)
    {
        var errors = CardRules.Validate(request, clock.GetUtcNow());
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var cardNumber = CardRules.Normalize(request.CardNumber);

        var behaviour = TestCards.BehaviourOf(cardNumber);
        // A first authorize, the usual case, is stored first-write without reading: a repeat loses that write and is
        // answered from the payment already stored (below). A card confirmed asynchronously is looked up first, so
        // that a repeat does not arm its confirmation again.
        if (behaviour == CardBehaviour.ApproveAfterConfirmation
            && await dapr.GetStateAsync<Payment?>(Components.StateStore, PaymentState.Key(request.PaymentId), cancellationToken: cancellationToken) is { } existing)
        {
            return Repeat(existing, request, cardNumber);
        }
        if (behaviour == CardBehaviour.ProviderTimeout)
        {
            // The caller gives up long before this answers; nothing is recorded, so its retry starts afresh.
            await Task.Delay(options.Value.ProviderTimeout, cancellationToken);
            return TypedResults.Problem(title: "The card network did not answer", statusCode: StatusCodes.Status504GatewayTimeout);
        }

        var payment = Payment.Authorize(request.PaymentId, request.Amount, cardNumber, behaviour, clock.GetUtcNow());
        if (behaviour == CardBehaviour.ApproveAfterConfirmation)
        {
            // Before the payment is stored, so a crash in between never leaves a pending payment nobody will confirm.
            await actors.Create(new ActorId(request.PaymentId), nameof(PaymentConfirmationActor)).InvokeMethodAsync(nameof(IPaymentConfirmationActor.ScheduleAsync));
        }
        if (!await PaymentState.TryCreateAsync(dapr, payment, cancellationToken))
        {
            // A repeat, or a concurrent authorize with the same id that won the race: answer what was recorded.
            var winner = await dapr.GetStateAsync<Payment>(Components.StateStore, PaymentState.Key(request.PaymentId), cancellationToken: cancellationToken);
            return Repeat(winner, request, cardNumber);
        }
        logger.LogInformation("Payment {PaymentId} of {Amount} authorized: {Status}", payment.PaymentId, payment.Amount, payment.Status);
        return TypedResults.Ok(payment.ToResult());
    }

    private static Results<Ok<PaymentResult>, ValidationProblem, ProblemHttpResult> Repeat(Payment existing, AuthorizePayment request, string cardNumber) =>
        existing.Matches(request.Amount, cardNumber)
            ? TypedResults.Ok(existing.ToResult())
            : TypedResults.Problem(
                title: "The payment id is already used",
                detail: $"payment {existing.PaymentId} was authorized for another amount or card; an idempotent retry must repeat the same request",
                statusCode: StatusCodes.Status409Conflict);

    private static async Task<Results<Ok<PaymentResult>, NotFound<ProblemDetails>, ProblemHttpResult>> TransitionAsync(
        string paymentId, Func<Payment, Transition> transition, DaprClient dapr, CancellationToken cancellationToken)
    {
        var (payment, outcome) = await PaymentState.UpdateAsync(dapr, paymentId, transition, cancellationToken);
        if (payment is null)
        {
            return UnknownPayment(paymentId);
        }
        if (outcome.Outcome == TransitionOutcome.Refused)
        {
            return TypedResults.Problem(
                title: "The payment cannot make this transition",
                detail: outcome.Reason,
                statusCode: StatusCodes.Status409Conflict,
                extensions: new Dictionary<string, object?> { ["paymentStatus"] = payment.Status.ToString() });
        }
        return TypedResults.Ok(payment.ToResult());
    }

    public static async Task<Results<Ok<PaymentDetails>, NotFound<ProblemDetails>>> GetAsync(string paymentId, DaprClient dapr, CancellationToken cancellationToken)
    {
        var payment = await dapr.GetStateAsync<Payment?>(Components.StateStore, PaymentState.Key(paymentId), cancellationToken: cancellationToken);
        return payment is null
            ? UnknownPayment(paymentId)
            : TypedResults.Ok(new PaymentDetails(payment.PaymentId, payment.Status, payment.Reason, payment.Amount, payment.CardLast4, payment.Ledger));
    }

    private static NotFound<ProblemDetails> UnknownPayment(string paymentId) =>
        TypedResults.NotFound(new ProblemDetails { Title = "Unknown payment", Detail = $"there is no payment {paymentId}", Status = StatusCodes.Status404NotFound });
}
