using System.Net;
using System.Text.Json;
using Dapr.Workflow;
using DaprShop.Contracts;
using DaprShop.Ordering.Workflows;

namespace DaprShop.Ordering.Activities;

// The order id is the payment id: the provider answers a repeated authorize, capture, void or refund with the
// first outcome, so a retried activity or a replayed saga never charges twice.

public sealed class AuthorizePaymentActivity(IHttpClientFactory http) : WorkflowActivity<PaymentInput, PaymentResult>
{
    public override Task<PaymentResult> RunAsync(WorkflowActivityContext context, PaymentInput input) =>
        ServiceCalls.InvokeAsync<PaymentResult>(http, HttpMethod.Post, AppIds.Payment, "internal/payments/authorize",
            new AuthorizePayment(input.OrderId, input.Amount, input.Card.Number, input.Card.Holder, input.Card.Expiry, input.Card.Cvc),
            input.OrderId);
}

public sealed class CapturePaymentActivity(IHttpClientFactory http) : WorkflowActivity<string, PaymentResult>
{
    public override Task<PaymentResult> RunAsync(WorkflowActivityContext context, string orderId) =>
        ServiceCalls.InvokeAsync<PaymentResult>(http, HttpMethod.Post, AppIds.Payment, $"internal/payments/{Uri.EscapeDataString(orderId)}/capture", null, orderId);
}

public sealed class VoidPaymentActivity(IHttpClientFactory http) : WorkflowActivity<string, bool>
{
    // 404: the provider never saw the authorization, so there is nothing to void; 409/422: nothing left to void
    // (declined, voided) — unless the payment was captured after all (a capture whose answer was lost): then the money
    // was taken, and it is given back.
    public override async Task<bool> RunAsync(WorkflowActivityContext context, string orderId)
    {
        var path = $"internal/payments/{Uri.EscapeDataString(orderId)}";
        using var response = await ServiceCalls.SendAsync(http, HttpMethod.Post, AppIds.Payment, path + "/void", null, orderId, CancellationToken.None);
        if (response.StatusCode == HttpStatusCode.Conflict && await PaymentStatusOfAsync(response) == nameof(PaymentStatus.Captured))
        {
            await ServiceCalls.InvokeAsync(http, HttpMethod.Post, AppIds.Payment, path + "/refund", null, orderId);
            return true;
        }
        if (!response.IsSuccessStatusCode && response.StatusCode is not (HttpStatusCode.NotFound or HttpStatusCode.Conflict or HttpStatusCode.UnprocessableEntity))
        {
            throw ServiceCalls.Failure(HttpMethod.Post, AppIds.Payment, path + "/void", response);
        }
        return true;
    }

    /// <summary>The <c>paymentStatus</c> the provider puts in a refused transition's problem details.</summary>
    private static async Task<string?> PaymentStatusOfAsync(HttpResponseMessage response)
    {
        try
        {
            using var problem = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync());
            return problem.RootElement.TryGetProperty("paymentStatus", out var status) ? status.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

public sealed class RefundPaymentActivity(IHttpClientFactory http) : WorkflowActivity<string, bool>
{
    public override async Task<bool> RunAsync(WorkflowActivityContext context, string orderId)
    {
        await ServiceCalls.InvokeAsync(http, HttpMethod.Post, AppIds.Payment, $"internal/payments/{Uri.EscapeDataString(orderId)}/refund", null, orderId);
        return true;
    }
}
