using Dapr.Client;
using Dapr.Workflow;
using DaprShop.Contracts;
using DaprShop.Ordering.Orders;
using DaprShop.Ordering.Workflows;

namespace DaprShop.Ordering.Activities;

/// <summary>
/// Applies one saga step to the order's read model and adds the order to its shopper's history and to the index
/// of its day of submission. Every write is optimistic (ETags) and idempotent: a step applied twice, or an index
/// that already lists the order, changes nothing.
/// </summary>
public sealed class RecordOrderActivity(DaprClient dapr, ILogger<RecordOrderActivity> logger) : WorkflowActivity<RecordOrderInput, bool>
{
    private const int Attempts = 10;

    public override async Task<bool> RunAsync(WorkflowActivityContext context, RecordOrderInput input)
    {
        var header = input.Order;
        for (var attempt = 1; ; attempt++)
        {
            var (order, etag) = await dapr.GetStateAndETagAsync<Order?>(Components.StateStore, OrderReadModel.OrderKey(header.OrderId));
            order ??= Order.Submit(header.OrderId, header.ShopperId, header.Email, header.ShippingAddress, header.SubmittedAt);
            if (input.Lines is { Count: > 0 } && order.Lines.Count == 0)
            {
                order.Price(input.Lines);
            }
            var outcome = input.Status == OrderStatus.Submitted ? TransitionOutcome.Applied : order.MoveTo(input.Status, input.At, input.Reason);
            if (outcome == TransitionOutcome.Refused)
            {
                // Only a stale duplicate of an earlier step can get here: the saga itself moves forward only.
                logger.LogWarning("Order {OrderId} is {Status}; ignoring the step to {Next}", header.OrderId, order.Status, input.Status);
                break;
            }
            if (await dapr.TrySaveStateAsync(Components.StateStore, OrderReadModel.OrderKey(header.OrderId), order, etag ?? ""))
            {
                break;
            }
            if (attempt == Attempts)
            {
                throw new InvalidOperationException($"order {header.OrderId} changed under {Attempts} attempts to record {input.Status}");
            }
        }
        await AddToIndexAsync(OrderReadModel.ShopperKey(header.ShopperId), header.OrderId);
        await AddToIndexAsync(OrderReadModel.DayKey(header.SubmittedAt), header.OrderId);
        return true;
    }

    private async Task AddToIndexAsync(string key, string orderId)
    {
        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            var (history, etag) = await dapr.GetStateAndETagAsync<ShopperOrders?>(Components.StateStore, key);
            if (history?.OrderIds.Contains(orderId) == true)
            {
                return;
            }
            var updated = new ShopperOrders([orderId, .. history?.OrderIds ?? []]);
            if (await dapr.TrySaveStateAsync(Components.StateStore, key, updated, etag ?? ""))
            {
                return;
            }
        }
        throw new InvalidOperationException($"the order index {key} changed under {Attempts} attempts");
    }
}
