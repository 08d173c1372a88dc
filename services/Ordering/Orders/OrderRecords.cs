using System.Text.Json;
using Dapr;
using Dapr.Client;
using DaprShop.Contracts;
using DaprShop.Ordering.Activities;
using DaprShop.Ordering.Workflows;
using Grpc.Core;

namespace DaprShop.Ordering.Orders;

/// <summary>
/// Applies one saga step (and the steps passed since the last one) to the order's read model; the activity then
/// publishes the integration event the step announces, if any (<see cref="TryAnnounceAsync"/>). Used by the activities that record: <see cref="RecordOrderActivity"/>
/// alone, <see cref="SubmitOrderActivity"/> after pricing, <see cref="ConfirmOrderActivity"/> after confirming the stock.
/// The first step creates the order and adds it to its shopper's
/// history and to its day's index in one state transaction, so an order is never listed without existing or exists
/// unlisted; later steps rewrite only the order. Every write is optimistic (ETags, first-write for new keys) and
/// idempotent: a step applied twice, or an index that already lists the order, changes nothing. The event's CloudEvent
/// id is derived from the order and the event kind, so a retried step publishes the same id and subscribers
/// (idempotent by CloudEvent id) handle it once.
/// </summary>
public sealed class OrderRecords(DaprClient dapr, ILogger<OrderRecords> logger)
{
    private const int Attempts = 10;
    private static readonly StateOptions FirstWrite = new() { Concurrency = ConcurrencyMode.FirstWrite };

    /// <summary>The order as it stands once the step is recorded.</summary>
    public async Task<Order> RecordAsync(RecordOrderInput input)
    {
        var orderKey = OrderReadModel.OrderKey(input.Order.OrderId);
        for (var attempt = 1; ; attempt++)
        {
            Order? recorded;
            if (input.Status == OrderStatus.Submitted)
            {
                // The first record: the order is new but for a retry, so it is read with its index entries.
                recorded = await TryCreateAsync(input);
            }
            else
            {
                // A checkout refused before it was submitted (an empty basket) creates its order with its last record.
                var (order, etag) = await dapr.GetStateAndETagAsync<Order?>(Components.StateStore, orderKey);
                recorded = order is null ? await TryCreateAsync(input) : await TryApplyAsync(order, etag, input);
            }
            if (recorded is not null)
            {
                return recorded;
            }
            if (attempt == Attempts)
            {
                throw new InvalidOperationException($"order {input.Order.OrderId} changed under {Attempts} attempts to record {input.Status}");
            }
        }
    }

    /// <summary>
    /// Publishes the event a recorded step announces (none: true). False when the broker refused it — the record stands
    /// and the saga publishes the event again until it is taken (<see cref="PublishOrderEventActivity"/>): a step that
    /// has been recorded must not be compensated because its announcement failed.
    /// </summary>
    public async Task<bool> TryAnnounceAsync(OrderEvent? e)
    {
        if (e is null)
        {
            return true;
        }
        try
        {
            await PublishAsync(e);
            return true;
        }
        catch (DaprException ex)
        {
            logger.LogWarning("Order {OrderId} is recorded but its {Kind} event was refused ({Error}); the checkout publishes it again", e.Order.OrderId, e.Kind, ex.InnerException?.Message ?? ex.Message);
            return false;
        }
    }

    /// <summary>Publishes an order event under an id derived from the order and the kind, so a repeat is the same event.</summary>
    public Task PublishAsync(OrderEvent e)
    {
        var o = e.Order;
        var metadata = new Dictionary<string, string> { ["cloudevent.id"] = $"{o.OrderId}:{e.Kind}" };
        var total = e.Total ?? Money.Zero("EUR");
        return e.Kind switch
        {
            OrderEventKind.Submitted => dapr.PublishEventAsync(Components.PubSub, Topics.OrderSubmitted,
                new OrderSubmitted(o.OrderId, o.ShopperId, o.Email, e.Lines, total, e.At), metadata),
            OrderEventKind.Confirmed => dapr.PublishEventAsync(Components.PubSub, Topics.OrderConfirmed,
                new OrderConfirmed(o.OrderId, o.ShopperId, o.Email, e.Lines, total, e.At), metadata),
            OrderEventKind.Failed => dapr.PublishEventAsync(Components.PubSub, Topics.OrderFailed,
                new OrderFailed(o.OrderId, o.ShopperId, o.Email, e.Reason ?? "", e.At), metadata),
            OrderEventKind.Cancelled => dapr.PublishEventAsync(Components.PubSub, Topics.OrderCancelled,
                new OrderCancelled(o.OrderId, o.ShopperId, o.Email, e.Reason ?? "", e.At), metadata),
            _ => throw new ArgumentOutOfRangeException(nameof(e), e.Kind, "unknown order event"),
        };
    }

    /// <summary>The order with the step applied, or null when there is nothing to write.</summary>
    private Order? Apply(Order order, RecordOrderInput input)
    {
        if (input.Lines is { Count: > 0 } && order.Lines.Count == 0)
        {
            order.Price(input.Lines);
        }
        foreach (var step in input.Steps ?? [])
        {
            // A step already in the timeline (a retried record) or behind the order's status (a stale one) changes nothing.
            order.MoveTo(step.Status, step.At);
        }
        if (input.Status == OrderStatus.Submitted || order.MoveTo(input.Status, input.At, input.Reason) != TransitionOutcome.Refused)
        {
            return order;
        }
        // Only a stale duplicate of an earlier step can get here: the saga itself moves forward only.
        logger.LogWarning("Order {OrderId} is {Status}; ignoring the step to {Next}", order.OrderId, order.Status, input.Status);
        return null;
    }

    /// <summary>Applies the step to an existing order (optimistically): the order, or null when another write got in first.</summary>
    private async Task<Order?> TryApplyAsync(Order order, string? etag, RecordOrderInput input)
    {
        if (Apply(order, input) is not { } changed)
        {
            return order; // nothing to change: done
        }
        return await dapr.TrySaveStateAsync(Components.StateStore, OrderReadModel.OrderKey(order.OrderId), changed, etag ?? "") ? changed : null;
    }

    /// <summary>
    /// The order and its two index entries, all or nothing, read in one bulk call with the order itself (a retried
    /// first record finds it and only applies the step); null when another write got in first (read again).
    /// </summary>
    private async Task<Order?> TryCreateAsync(RecordOrderInput input)
    {
        var h = input.Order;
        var orderKey = OrderReadModel.OrderKey(h.OrderId);
        var shopperKey = OrderReadModel.ShopperKey(h.ShopperId);
        var dayKey = OrderReadModel.DayKey(h.SubmittedAt, h.OrderId);
        var indexes = (await dapr.GetBulkStateAsync(Components.StateStore, [orderKey, shopperKey, dayKey], parallelism: null)).ToDictionary(i => i.Key);
        if (Read<Order>(indexes[orderKey]) is { } existing)
        {
            return await TryApplyAsync(existing, indexes[orderKey].ETag, input);
        }
        var order = Apply(Order.Submit(h.OrderId, h.ShopperId, h.Email, h.ShippingAddress, h.SubmittedAt), input)!;
        var history = Read<ShopperOrders>(indexes[shopperKey]);
        var day = Read<DayOrders>(indexes[dayKey]);
        List<StateTransactionRequest> ops = [Write(OrderReadModel.OrderKey(h.OrderId), order, etag: null)];
        if (history?.OrderIds.Contains(h.OrderId) != true)
        {
            ops.Add(Write(shopperKey, new ShopperOrders([h.OrderId, .. history?.OrderIds ?? []]), indexes[shopperKey].ETag));
        }
        if (day?.Orders.Any(o => o.OrderId == h.OrderId) != true)
        {
            ops.Add(Write(dayKey, new DayOrders([new DayOrder(h.OrderId, h.SubmittedAt), .. day?.Orders ?? []]), indexes[dayKey].ETag));
        }
        try
        {
            await dapr.ExecuteStateTransactionAsync(Components.StateStore, ops);
            return order;
        }
        catch (DaprException e) when (IsConflict(e))
        {
            return null;
        }
    }

    // daprd answers a failed ETag or first-write check inside a transaction with Internal and the store's message,
    // not with the Aborted of a single save.
    private static bool IsConflict(DaprException e) => e.InnerException is RpcException r
        && (r.StatusCode == StatusCode.Aborted || (r.StatusCode == StatusCode.Internal && r.Status.Detail.Contains("etag mismatch", StringComparison.OrdinalIgnoreCase)));

    // The client's own serializer options: these rows are read back with GetStateAndETagAsync and written by TrySaveStateAsync.
    private T? Read<T>(BulkStateItem item) where T : class =>
        string.IsNullOrEmpty(item.Value) ? null : JsonSerializer.Deserialize<T>(item.Value, dapr.JsonSerializerOptions);

    // An ETag where the key exists; first-write where it does not, so two new entries cannot overwrite each other.
    private StateTransactionRequest Write<T>(string key, T value, string? etag)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, dapr.JsonSerializerOptions);
        return string.IsNullOrEmpty(etag)
            ? new(key, bytes, StateOperationType.Upsert, options: FirstWrite)
            : new(key, bytes, StateOperationType.Upsert, etag);
    }
}
