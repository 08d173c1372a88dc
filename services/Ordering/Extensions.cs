using Dapr.Client;
using Dapr.Workflow;
using DaprShop.Contracts;
using DaprShop.Ordering.Activities;
using DaprShop.Ordering.Orders;
using DaprShop.Ordering.Workflows;

namespace DaprShop.Ordering;

public static class OrderingExtensions
{
    public static IHostApplicationBuilder AddOrdering(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<OrderingOptions>()
            .BindConfiguration(OrderingOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => o.ReservationHold > o.PaymentConfirmationTimeout, "Ordering:ReservationHold must be longer than Ordering:PaymentConfirmationTimeout")
            .ValidateOnStart();
        builder.Services.AddOpenApi();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<OrderRecords>();
        // Service invocation through the sidecar: http://{app-id}/... is routed by Dapr's InvocationHandler, so
        // Dapr's resiliency policies (retries on 503, timeouts, circuit breakers) apply to every call.
        foreach (var appId in new[] { AppIds.Catalog, AppIds.Basket, AppIds.Inventory, AppIds.Payment })
        {
            builder.Services.AddHttpClient(appId, c => c.BaseAddress = new Uri($"http://{appId}/"))
                .AddHttpMessageHandler(() => new InvocationHandler());
        }
        // Dapr.Workflow 1.18's source generator registers the workflow and every activity of this assembly by its
        // type name (CheckoutWorkflow, SubmitOrderActivity, ...); registering them here as well only logs "already registered".
        builder.Services.AddDaprWorkflow(_ => { });
        return builder;
    }
}
