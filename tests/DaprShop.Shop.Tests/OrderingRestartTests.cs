using DaprShop.Contracts;
using DaprShop.Ordering.Orders;
using DaprShop.Payment.Payments;
using DaprShop.Testing;
using FluentAssertions;

namespace DaprShop.Shop.Tests;

/// <summary>A crash of the ordering service in the middle of a checkout; the service is back when the test ends.</summary>
[Collection(WholeShopCollection.Name)]
public sealed class OrderingRestartTests(WholeShop shop) : IDisposable
{
    private readonly ShopClient _client = shop.CreateShopClient();

    [Fact]
    public async Task A_checkout_whose_ordering_service_crashes_while_it_waits_for_the_payment_completes_after_the_restart()
    {
        var (product, before) = (await ShopTestKit.PickInStockAsync(_client, "Garden", count: 1, minAvailable: 1))[0];
        await _client.AddToBasketAsync("shopper-crash", product.ProductId, 1);
        // This card is confirmed by the issuer later, through ordering's webhook: the saga waits in the middle.
        var orderId = await _client.PlaceOrderAsync("shopper-crash", "checkout-crash-1", TestCards.ApproveAfterConfirmation);
        await Eventually.HoldsAsync(
            async () => (await _client.GetOrderAsync(orderId))?.Status == nameof(OrderStatus.AwaitingPaymentConfirmation),
            TimeSpan.FromSeconds(30), "the saga reserves the stock and waits for the payment's confirmation");

        shop.Ordering.KillService();
        try
        {
            // The issuer approves while ordering is down: its webhook call fails and the provider offers it again.
            await Eventually.HoldsAsync(
                async () => (await _client.GetPaymentAsync(orderId))?.Status == nameof(PaymentStatus.Approved),
                TimeSpan.FromSeconds(30), "the issuer confirms the payment while ordering is down");
        }
        finally
        {
            // The other tests share this shop.
            await shop.Ordering.RestartServiceAsync();
        }

        var order = await _client.WaitForOrderAsync(orderId, TimeSpan.FromSeconds(90));
        order.Status.Should().Be(nameof(OrderStatus.Confirmed), order.FailureReason);
        order.Timeline.Select(s => s.Status).Should().Equal(
            nameof(OrderStatus.Submitted), nameof(OrderStatus.StockReserved), nameof(OrderStatus.AwaitingPaymentConfirmation),
            nameof(OrderStatus.PaymentAuthorized), nameof(OrderStatus.Paid), nameof(OrderStatus.Confirmed));
        (await _client.GetStockAsync(product.ProductId)).Should().Be(before with { OnHand = before.OnHand - 1, Available = before.Available - 1 });
        (await _client.GetPaymentAsync(orderId))!.Ledger.Select(e => e.Operation).Should().Equal(
            nameof(PaymentOperation.Authorize), nameof(PaymentOperation.Confirm), nameof(PaymentOperation.Capture));
        await Eventually.HoldsAsync(async () => (await _client.GetBasketAsync("shopper-crash")).Items.Count == 0, TimeSpan.FromSeconds(20),
            "the basket is emptied by the OrderConfirmed event");
    }

    [Fact]
    public async Task A_checkout_whose_ordering_service_is_killed_right_after_accepting_it_completes_once_after_the_restart()
    {
        var (product, before) = (await ShopTestKit.PickInStockAsync(_client, "Toys", count: 1, minAvailable: 1))[0];
        await _client.AddToBasketAsync("shopper-killed", product.ProductId, 1);

        // The saga is scheduled; its first activities run (or are about to) when the process dies.
        var orderId = await _client.PlaceOrderAsync("shopper-killed", "checkout-killed-1");
        shop.Ordering.KillService();
        await shop.Ordering.RestartServiceAsync();

        var order = await _client.WaitForOrderAsync(orderId, TimeSpan.FromSeconds(90));
        order.Status.Should().Be(nameof(OrderStatus.Confirmed), order.FailureReason);
        (await _client.GetStockAsync(product.ProductId)).Should().Be(before with { OnHand = before.OnHand - 1, Available = before.Available - 1 },
            "the reservation is idempotent by order id: a repeated activity holds nothing twice");
        (await _client.GetPaymentAsync(orderId))!.Ledger.Select(e => e.Operation).Should().Equal(nameof(PaymentOperation.Authorize), nameof(PaymentOperation.Capture));
        (await _client.GetOrderHistoryAsync("shopper-killed")).Select(o => o.OrderId).Should().Equal(orderId);
    }

    public void Dispose() => _client.Dispose();
}
