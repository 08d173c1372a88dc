using System.Net;
using Dapr.Workflow;
using DaprShop.Contracts;
using DaprShop.Ordering.Orders;
using DaprShop.Ordering.Workflows;

namespace DaprShop.Ordering.Activities;

/// <summary>
/// The saga's first step: reads the shopper's basket (quantities only), prices every line from the catalog — whatever
/// price a client may have seen, the order is charged at the catalog's current price — and records the order as
/// submitted, with its event. A basket that cannot be ordered is answered with its <see cref="PricedBasket.Problem"/>
/// and nothing is recorded. Pricing and recording are one activity, not two, because every activity costs the saga a
/// round of workflow messages and a turn (docs/ordering.md).
/// </summary>
public sealed class SubmitOrderActivity(IHttpClientFactory http, OrderRecords records) : WorkflowActivity<SubmitOrderInput, PricedBasket>
{
    public override async Task<PricedBasket> RunAsync(WorkflowActivityContext context, SubmitOrderInput input)
    {
        var order = input.Order;
        var priced = await PriceAsync(order.ShopperId, context.InstanceId);
        if (priced.Problem is not null || priced.Total is null)
        {
            return priced;
        }
        // A repeat of this step (a retry after the record was written) finds the order priced by the first attempt:
        // the saga goes on with those lines, and the event announces them.
        var recorded = await records.RecordAsync(new RecordOrderInput(order, OrderStatus.Submitted, input.At, priced.Lines));
        var lines = recorded.Lines.Count > 0 ? recorded.Lines : priced.Lines;
        var total = recorded.Total ?? priced.Total;
        await records.PublishAsync(new OrderEvent(OrderEventKind.Submitted, order, lines, total, null, input.At));
        return new PricedBasket(lines, total, null);
    }

    private async Task<PricedBasket> PriceAsync(string shopperId, string instanceId)
    {
        using var response = await ServiceCalls.SendAsync(http, HttpMethod.Get, AppIds.Basket, $"api/v1/baskets/{Uri.EscapeDataString(shopperId)}", null, instanceId, CancellationToken.None);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return PricedBasket.Refused(CheckoutWorkflow.EmptyBasket);
        }
        response.EnsureSuccessStatusCode();
        var basket = await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<BasketDto>(response.Content)
            ?? throw new InvalidOperationException("the basket service answered no basket");
        var items = basket.Items.Where(i => i.Quantity > 0).ToList();
        if (items.Count == 0)
        {
            return PricedBasket.Refused(CheckoutWorkflow.EmptyBasket);
        }

        var prices = await ServiceCalls.InvokeAsync<PriceAnswer>(http, HttpMethod.Post, AppIds.Catalog, "internal/catalog/prices",
            new PriceQuery([.. items.Select(i => i.ProductId).Distinct()]), instanceId);
        return Price(items, prices);
    }

    internal static PricedBasket Price(IReadOnlyList<BasketItemDto> items, PriceAnswer prices)
    {
        var lines = new List<OrderLine>();
        foreach (var item in items)
        {
            if (!prices.Prices.TryGetValue(item.ProductId, out var price))
            {
                return PricedBasket.Refused($"Sorry, a product in your basket ({item.ProductId}) is no longer available.");
            }
            lines.Add(new OrderLine(item.ProductId, price.Name, item.Quantity, price.Price));
        }
        if (lines.Select(l => l.UnitPrice.Currency).Distinct().Count() > 1)
        {
            return PricedBasket.Refused("Sorry, your basket mixes currencies and cannot be ordered as one.");
        }
        return new PricedBasket(lines, Order.TotalOf(lines), null);
    }
}
