using Dapr.Workflow;
using DaprShop.Ordering.Orders;
using DaprShop.Ordering.Workflows;

namespace DaprShop.Ordering.Activities;

/// <summary>Records a saga step on its own (see <see cref="OrderRecords"/>): an order that waits, fails or is cancelled.</summary>
public sealed class RecordOrderActivity(OrderRecords records) : WorkflowActivity<RecordOrderInput, bool>
{
    public override async Task<bool> RunAsync(WorkflowActivityContext context, RecordOrderInput input)
    {
        await records.RecordAsync(input);
        return true;
    }
}
