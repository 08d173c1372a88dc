using System.Net;
using Dapr.Workflow;
using DaprShop.Contracts;
using DaprShop.Ordering.Orders;
using DaprShop.Ordering.Workflows;

namespace DaprShop.Ordering.Activities;

// Inventory holds, confirms and releases an order's stock under the order id: each call can be repeated.

public sealed class ReserveStockActivity(IHttpClientFactory http) : WorkflowActivity<ReserveStockInput, ReservationResult>
{
    public override Task<ReservationResult> RunAsync(WorkflowActivityContext context, ReserveStockInput input) =>
        ServiceCalls.InvokeAsync<ReservationResult>(http, HttpMethod.Post, AppIds.Inventory, "internal/inventory/reservations",
            new ReserveStock(input.OrderId, [.. input.Lines.Select(l => new BasketItemDto(l.ProductId, l.Quantity))], input.HoldSeconds),
            input.OrderId);
}

/// <summary>
/// The saga's last step once the payment is taken: confirms the order's stock (the reservation's units are sold), then
/// records the order as confirmed and publishes <c>OrderConfirmed</c> (<see cref="OrderRecords"/>). Both are
/// idempotent, so a retry after either repeats nothing; one activity, not two, for the reason in
/// <see cref="SubmitOrderActivity"/>. A refused publish does not fail it (the order is confirmed): it answers false,
/// and the saga publishes the event again.
/// </summary>
public sealed class ConfirmOrderActivity(IHttpClientFactory http, OrderRecords records) : WorkflowActivity<RecordOrderInput, bool>
{
    public override async Task<bool> RunAsync(WorkflowActivityContext context, RecordOrderInput input)
    {
        var orderId = input.Order.OrderId;
        await ServiceCalls.InvokeAsync(http, HttpMethod.Post, AppIds.Inventory, $"internal/inventory/reservations/{Uri.EscapeDataString(orderId)}/confirm", null, orderId);
        await records.RecordAsync(input);
        return await records.TryAnnounceAsync(input.Announce);
    }
}

public sealed class ReleaseReservationActivity(IHttpClientFactory http) : WorkflowActivity<string, bool>
{
    // 404: there is nothing to release (the reservation never happened or already expired).
    public override async Task<bool> RunAsync(WorkflowActivityContext context, string orderId)
    {
        await ServiceCalls.InvokeAsync(http, HttpMethod.Post, AppIds.Inventory, $"internal/inventory/reservations/{Uri.EscapeDataString(orderId)}/release", null, orderId, HttpStatusCode.NotFound);
        return true;
    }
}

/// <summary>
/// Gives back what the order's reservation took, whatever came of it: the units of a confirmed reservation (a
/// <see cref="ConfirmOrderActivity"/> that failed after confirming the stock), or the holds of one still open.
/// </summary>
public sealed class ReturnReservationActivity(IHttpClientFactory http) : WorkflowActivity<string, bool>
{
    public override async Task<bool> RunAsync(WorkflowActivityContext context, string orderId)
    {
        await ServiceCalls.InvokeAsync(http, HttpMethod.Post, AppIds.Inventory, $"internal/inventory/reservations/{Uri.EscapeDataString(orderId)}/return", null, orderId);
        return true;
    }
}
