using System.Net;
using Dapr.Workflow;
using DaprShop.Contracts;
using DaprShop.Ordering.Workflows;

namespace DaprShop.Ordering.Activities;

/// <summary>
/// Reads the shopper's basket (quantities only) and prices every line from the catalog: whatever price a client
/// may have seen, the order is charged at the catalog's current price.
/// </summary>
public sealed class PriceBasketActivity(IHttpClientFactory http) : WorkflowActivity<string, PricedBasket>
{
    public override async Task<PricedBasket> RunAsync(WorkflowActivityContext context, string shopperId)
    {
        using var response = await ServiceCalls.SendAsync(http, HttpMethod.Get, AppIds.Basket, $"api/v1/baskets/{Uri.EscapeDataString(shopperId)}", null, context.InstanceId, CancellationToken.None);
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
            new PriceQuery([.. items.Select(i => i.ProductId).Distinct()]), context.InstanceId);
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
        return new PricedBasket(lines, Orders.Order.TotalOf(lines), null);
    }
}
