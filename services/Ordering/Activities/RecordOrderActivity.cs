using Dapr.Workflow;
using DaprShop.Ordering.Orders;
using DaprShop.Ordering.Workflows;

namespace DaprShop.Ordering.Activities;

/// <summary>
/// Records a saga step on its own (see <see cref="OrderRecords"/>): an order that waits, fails or is cancelled. True
/// when the step's event, if any, was published; false when the broker refused it (the record stands).
/// </summary>
public sealed class RecordOrderActivity(OrderRecords records) : WorkflowActivity<RecordOrderInput, bool>
{
    public override async Task<bool> RunAsync(WorkflowActivityContext context, RecordOrderInput input)
    {
        await records.RecordAsync(input);
        return await records.TryAnnounceAsync(input.Announce);
    }
}

/// <summary>
/// Publishes an order event the saga recorded but could not announce (the broker refused it): throws while the broker
/// refuses, so the workflow's retry policy and timers keep trying. Same CloudEvent id every time.
/// </summary>
public sealed class PublishOrderEventActivity(OrderRecords records) : WorkflowActivity<OrderEvent, bool>
{
    public override async Task<bool> RunAsync(WorkflowActivityContext context, OrderEvent input)
    {
        await records.PublishAsync(input);
        return true;
    }
}
