using Microsoft.Extensions.Options;

namespace DaprShop.Payment.Simulation;

/// <summary>
/// Latency and transient failures of a remote provider, in front of every provider operation. A failure is answered
/// before anything is read or written, so the caller's retry (Dapr resiliency retries 503) is always safe.
/// </summary>
internal sealed class ProviderSimulationFilter(IOptionsMonitor<PaymentOptions> options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var current = options.CurrentValue;
        if (current.LatencyMs > 0)
        {
            await Task.Delay(current.LatencyMs, context.HttpContext.RequestAborted);
        }
        if (current.FailureRate > 0 && Random.Shared.NextDouble() < current.FailureRate)
        {
            return TypedResults.Problem(
                title: "The payment provider is temporarily unavailable",
                detail: "simulated transient failure: nothing was done, retry the request",
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        return await next(context);
    }
}
