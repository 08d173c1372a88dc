using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapr.Client;
using Dapr.Workflow;
using DaprShop.Contracts;
using DaprShop.Ordering.Workflows;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DaprShop.Ordering.Payments;

/// <summary>
/// The payment provider's callback for an asynchronous authorization. The body is signed with a key shared with
/// the provider (HMAC-SHA256, <see cref="PaymentWebhook"/>); an unsigned or wrongly signed call is refused with 401
/// before anything is read from it.
/// </summary>
public static class PaymentWebhookApi
{
    public static IEndpointRouteBuilder MapPaymentWebhookApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/payments/webhook", HandleAsync).WithTags("Payments").WithName("PaymentWebhook");
        return app;
    }

    public static async Task<Results<Accepted, UnauthorizedHttpResult, ValidationProblem, NotFound>> HandleAsync(
        HttpRequest request, DaprClient dapr, DaprWorkflowClient workflows, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        var body = buffer.ToArray();
        var secrets = await dapr.GetSecretAsync(Components.SecretStore, PaymentWebhook.SigningKeySecret, cancellationToken: cancellationToken);
        if (!secrets.TryGetValue(PaymentWebhook.SigningKeySecret, out var key) || string.IsNullOrEmpty(key)
            || !PaymentWebhook.Verify(key, body, request.Headers[PaymentWebhook.SignatureHeader].ToString()))
        {
            return TypedResults.Unauthorized();
        }

        PaymentConfirmation? confirmation;
        try
        {
            confirmation = JsonSerializer.Deserialize<PaymentConfirmation>(body, JsonSerializerOptions.Web);
        }
        catch (JsonException)
        {
            confirmation = null;
        }
        if (confirmation is null || string.IsNullOrWhiteSpace(confirmation.PaymentId))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["paymentId"] = ["The payment id is required."] });
        }

        // The payment id is the order id, which is the workflow instance id.
        var state = await workflows.GetWorkflowStateAsync(confirmation.PaymentId, getInputsAndOutputs: false, cancellationToken);
        if (state?.Exists != true)
        {
            return TypedResults.NotFound();
        }
        await workflows.RaiseEventAsync(confirmation.PaymentId, CheckoutWorkflow.PaymentConfirmationEvent, confirmation, cancellationToken);
        return TypedResults.Accepted((string?)null);
    }
}
