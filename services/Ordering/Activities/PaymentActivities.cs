using System.Net;
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
    // 404: the provider never saw the authorization, so there is nothing to void.
    public override async Task<bool> RunAsync(WorkflowActivityContext context, string orderId)
    {
        await ServiceCalls.InvokeAsync(http, HttpMethod.Post, AppIds.Payment, $"internal/payments/{Uri.EscapeDataString(orderId)}/void", null, orderId,
            HttpStatusCode.NotFound, HttpStatusCode.Conflict, HttpStatusCode.UnprocessableEntity);
        return true;
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
