using Dapr.Client;
using Dapr.Workflow;
using DaprShop.Contracts;
using DaprShop.Ordering.Workflows;

namespace DaprShop.Ordering.Activities;

/// <summary>
/// Publishes an order's integration event. The CloudEvent id is derived from the order and the event kind, so a
/// retried publish carries the same id and subscribers (idempotent by CloudEvent id) handle it once.
/// </summary>
public sealed class PublishOrderEventActivity(DaprClient dapr) : WorkflowActivity<PublishOrderEventInput, bool>
{
    public override async Task<bool> RunAsync(WorkflowActivityContext context, PublishOrderEventInput input)
    {
        var o = input.Order;
        var metadata = new Dictionary<string, string> { ["cloudevent.id"] = $"{o.OrderId}:{input.Kind}" };
        var total = input.Total ?? Money.Zero("EUR");
        var task = input.Kind switch
        {
            OrderEventKind.Submitted => dapr.PublishEventAsync(Components.PubSub, Topics.OrderSubmitted,
                new OrderSubmitted(o.OrderId, o.ShopperId, o.Email, input.Lines, total, input.At), metadata),
            OrderEventKind.Confirmed => dapr.PublishEventAsync(Components.PubSub, Topics.OrderConfirmed,
                new OrderConfirmed(o.OrderId, o.ShopperId, o.Email, input.Lines, total, input.At), metadata),
            OrderEventKind.Failed => dapr.PublishEventAsync(Components.PubSub, Topics.OrderFailed,
                new OrderFailed(o.OrderId, o.ShopperId, o.Email, input.Reason ?? "", input.At), metadata),
            OrderEventKind.Cancelled => dapr.PublishEventAsync(Components.PubSub, Topics.OrderCancelled,
                new OrderCancelled(o.OrderId, o.ShopperId, o.Email, input.Reason ?? "", input.At), metadata),
            _ => throw new ArgumentOutOfRangeException(nameof(input), input.Kind, "unknown order event"),
        };
        await task;
        return true;
    }
}
