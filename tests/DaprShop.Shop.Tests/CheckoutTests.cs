using System.Net;
using System.Net.Http.Json;
using DaprShop.Contracts;
using DaprShop.Notifications.Mail;
using DaprShop.Ordering.Orders;
using DaprShop.Payment.Payments;
using DaprShop.Testing;
using FluentAssertions;

namespace DaprShop.Shop.Tests;

/// <summary>
/// Checkouts through the whole shop: six real services, each with its own sidecar, on the embedded default profile,
/// called through a sidecar with Dapr service invocation as the gateway calls them. Each test buys in its own category
/// or its own product, so the tests do not share stock.
/// </summary>
[Collection(WholeShopCollection.Name)]
public sealed class CheckoutTests(WholeShop shop) : IDisposable
{
    private readonly ShopClient _client = shop.CreateShopClient();

    [Fact]
    public async Task A_shopper_browses_fills_a_basket_and_checks_out_to_a_confirmed_order_that_takes_the_stock_mails_the_shopper_and_empties_the_basket()
    {
        var picked = await ShopTestKit.PickInStockAsync(_client, "Kitchen", count: 2, minAvailable: 3);
        var ((kettle, kettleBefore), (grinder, grinderBefore)) = (picked[0], picked[1]);
        await _client.AddToBasketAsync("shopper-full", kettle.ProductId, 2);
        await _client.AddToBasketAsync("shopper-full", grinder.ProductId, 1);

        var orderId = await _client.PlaceOrderAsync("shopper-full", "checkout-full-1", TestCards.Approve);
        var order = await _client.WaitForOrderAsync(orderId);

        order.Status.Should().Be(nameof(OrderStatus.Confirmed), order.FailureReason);
        order.Timeline.Select(s => s.Status).Should().Equal(
            nameof(OrderStatus.Submitted), nameof(OrderStatus.StockReserved), nameof(OrderStatus.PaymentAuthorized), nameof(OrderStatus.Paid), nameof(OrderStatus.Confirmed));
        order.Lines.Should().Equal(
            new OrderLine(kettle.ProductId, kettle.Name, 2, kettle.Price),
            new OrderLine(grinder.ProductId, grinder.Name, 1, grinder.Price));
        var total = kettle.Price.Times(2) + grinder.Price;
        order.Total.Should().Be(total);

        var kettleAfter = await _client.GetStockAsync(kettle.ProductId);
        kettleAfter.Should().Be(kettleBefore with { OnHand = kettleBefore.OnHand - 2, Available = kettleBefore.Available - 2 });
        var grinderAfter = await _client.GetStockAsync(grinder.ProductId);
        grinderAfter.Should().Be(grinderBefore with { OnHand = grinderBefore.OnHand - 1, Available = grinderBefore.Available - 1 });

        var payment = await _client.GetPaymentAsync(orderId);
        payment!.Status.Should().Be(nameof(PaymentStatus.Captured));
        payment.Amount.Should().Be(total);
        payment.Ledger.Select(e => e.Operation).Should().Equal(nameof(PaymentOperation.Authorize), nameof(PaymentOperation.Capture));

        await Eventually.HoldsAsync(async () => (await _client.GetBasketAsync("shopper-full")).Items.Count == 0, TimeSpan.FromSeconds(20),
            "the basket service takes what the order bought out of the basket when it hears OrderConfirmed");

        var mail = await ShopTestKit.ReadMailAsync(ShopTestKit.MailPath(shop, orderId, "confirmed"));
        mail.Should().Contain("To: <shopper-full@example.com>")
            .And.Contain($"Your DaprShop order {orderId} is confirmed")
            .And.Contain(kettle.Name)
            .And.Contain($"Total: {MoneyText.Format(total)}");

        (await _client.GetOrderHistoryAsync("shopper-full")).Should().Equal(new ShopOrderSummary(orderId, nameof(OrderStatus.Confirmed), total));
    }

    [Fact]
    public async Task A_declined_card_fails_the_order_with_a_readable_reason_and_gives_the_held_stock_back()
    {
        var (product, before) = (await ShopTestKit.PickInStockAsync(_client, "Sports", count: 1, minAvailable: 2))[0];
        await _client.AddToBasketAsync("shopper-declined", product.ProductId, 2);

        var orderId = await _client.PlaceOrderAsync("shopper-declined", "checkout-declined-1", TestCards.Decline);
        var order = await _client.WaitForOrderAsync(orderId);

        order.Status.Should().Be(nameof(OrderStatus.Failed));
        order.FailureReason.Should().Be("Your card was declined.");
        order.Timeline.Select(s => s.Status).Should().Contain(nameof(OrderStatus.StockReserved), "the stock was held before the card was tried");
        (await _client.GetStockAsync(product.ProductId)).Should().Be(before, "the released reservation makes the units available again");

        var payment = await _client.GetPaymentAsync(orderId);
        payment!.Status.Should().Be(nameof(PaymentStatus.Declined));
        payment.Ledger.Select(e => e.Operation).Should().NotContain(nameof(PaymentOperation.Capture));
        (await _client.GetBasketAsync("shopper-declined")).Items.Should().Equal([new BasketItemDto(product.ProductId, 2)], "a failed order leaves the basket for another try");

        var mail = await ShopTestKit.ReadMailAsync(ShopTestKit.MailPath(shop, orderId, "failed"));
        mail.Should().Contain("Reason: Your card was declined.");
    }

    [Fact]
    public async Task Fifty_shoppers_racing_for_the_last_ten_units_get_ten_confirmed_orders_forty_clean_refusals_and_ten_charges()
    {
        var product = await _client.CreateProductAsync("Last Ten Lamp", "Furniture", "Nordhem", 4_900);
        (await _client.RestockAsync(product.ProductId, 10)).Should().Be(new StockDto(product.ProductId, 10, 0, 10));
        var shoppers = Enumerable.Range(1, 50).Select(i => $"rush-{i:00}").ToList();
        await Task.WhenAll(shoppers.Select(s => _client.AddToBasketAsync(s, product.ProductId, 1)));

        var orderIds = await Task.WhenAll(shoppers.Select(s => _client.PlaceOrderAsync(s, $"rush-order-{s}")));
        var orders = await Task.WhenAll(orderIds.Select(id => _client.WaitForOrderAsync(id, TimeSpan.FromSeconds(120))));

        orders.Count(o => o.Status == nameof(OrderStatus.Confirmed)).Should().Be(10);
        var refused = orders.Where(o => o.Status != nameof(OrderStatus.Confirmed)).ToList();
        refused.Should().HaveCount(40).And.OnlyContain(o => o.Status == nameof(OrderStatus.Failed) && o.FailureReason == "Sorry, 'Last Ten Lamp' is out of stock.");
        (await _client.GetStockAsync(product.ProductId)).Should().Be(new StockDto(product.ProductId, 0, 0, 0));

        var payments = await Task.WhenAll(orders.Select(async o => (Order: o, Payment: await _client.GetPaymentAsync(o.OrderId))));
        payments.Where(p => p.Order.Status == nameof(OrderStatus.Confirmed))
            .Should().OnlyContain(p => p.Payment != null && p.Payment.Status == nameof(PaymentStatus.Captured));
        payments.Where(p => p.Order.Status == nameof(OrderStatus.Failed)).Should().OnlyContain(p => p.Payment == null, "a refused order never reaches the provider");
        payments.Sum(p => p.Payment?.Ledger.Count(e => e.Operation == nameof(PaymentOperation.Capture)) ?? 0).Should().Be(10);

        // Inventory tells the catalog: the storefront stops offering the lamp as in stock.
        await Eventually.HoldsAsync(async () => !(await _client.GetProductAsync(product.ProductId)).Available, TimeSpan.FromSeconds(20),
            "the catalog learns that the lamp is sold out");
        (await _client.ListProductsAsync("q=last+ten+lamp&inStock=true")).Items.Should().NotContain(p => p.ProductId == product.ProductId);
    }

    [Fact]
    public async Task The_same_idempotency_key_sent_twice_at_once_and_again_later_makes_one_order_and_one_charge()
    {
        var (product, before) = (await ShopTestKit.PickInStockAsync(_client, "Books", count: 1, minAvailable: 1))[0];
        await _client.AddToBasketAsync("shopper-twice", product.ProductId, 1);

        var answers = await Task.WhenAll(_client.CheckoutAsync("shopper-twice", "checkout-twice-1"), _client.CheckoutAsync("shopper-twice", "checkout-twice-1"));
        var order = await _client.WaitForOrderAsync("checkout-twice-1");
        using var again = await _client.CheckoutAsync("shopper-twice", "checkout-twice-1");

        foreach (var answer in answers.Append(again))
        {
            answer.StatusCode.Should().Be(HttpStatusCode.Accepted);
            (await answer.Content.ReadFromJsonAsync<CheckoutAccepted>())!.OrderId.Should().Be("checkout-twice-1");
            answer.Dispose();
        }
        order.Status.Should().Be(nameof(OrderStatus.Confirmed), order.FailureReason);
        (await _client.GetOrderHistoryAsync("shopper-twice")).Select(o => o.OrderId).Should().Equal("checkout-twice-1");
        var payment = await _client.GetPaymentAsync("checkout-twice-1");
        payment!.Ledger.Select(e => e.Operation).Should().Equal(nameof(PaymentOperation.Authorize), nameof(PaymentOperation.Capture));
        (await _client.GetStockAsync(product.ProductId)).OnHand.Should().Be(before.OnHand - 1);
    }

    [Fact]
    public async Task An_order_event_delivered_twice_under_one_cloud_event_id_sends_one_mail()
    {
        var orderId = $"order-dup-{Guid.NewGuid():N}"[..24];
        var eventId = $"evt-{orderId}";
        var path = ShopTestKit.MailPath(shop, orderId, "failed");
        await ShopTestKit.PublishCloudEventAsync(shop, Topics.OrderFailed, eventId,
            new OrderFailed(orderId, "shopper-dup", "shopper-dup@example.com", "First delivery.", DateTimeOffset.UtcNow));
        (await ShopTestKit.ReadMailAsync(path)).Should().Contain("Reason: First delivery.");
        // The id is marked once the mail is out: a duplicate that arrives before that is mailed too (at least once).
        await Eventually.HoldsAsync(() => shop.Notifications.Output.Contains($"Order {orderId}: Failed mail sent to the outbox", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), "the first delivery is processed");
        var written = File.GetLastWriteTimeUtc(path);

        // A redelivery carries the same id. Its reason differs only so that a second mail, had one been written, would show.
        await ShopTestKit.PublishCloudEventAsync(shop, Topics.OrderFailed, eventId,
            new OrderFailed(orderId, "shopper-dup", "shopper-dup@example.com", "Second delivery.", DateTimeOffset.UtcNow));
        await Eventually.HoldsAsync(() => shop.Notifications.Output.Contains($"event {eventId} was already mailed", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), "notifications receives the redelivery and recognises it");

        (await ShopTestKit.ReadMailAsync(path)).Should().Contain("Reason: First delivery.").And.NotContain("Second delivery.");
        File.GetLastWriteTimeUtc(path).Should().Be(written);
        Directory.GetFiles(shop.OutboxDirectory, $"{orderId}-*.eml").Should().ContainSingle();
    }

    public void Dispose() => _client.Dispose();
}
