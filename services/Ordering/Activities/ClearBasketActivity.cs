using System.Net;
using Dapr.Workflow;
using DaprShop.Contracts;

namespace DaprShop.Ordering.Activities;

public sealed class ClearBasketActivity(IHttpClientFactory http) : WorkflowActivity<string, bool>
{
    public override async Task<bool> RunAsync(WorkflowActivityContext context, string shopperId)
    {
        await ServiceCalls.InvokeAsync(http, HttpMethod.Delete, AppIds.Basket, $"api/v1/baskets/{Uri.EscapeDataString(shopperId)}", null, context.InstanceId, HttpStatusCode.NotFound);
        return true;
    }
}
