using System.Net;
using System.Net.Http.Json;
using DaprShop.Contracts;
using DaprShop.Ordering.Orders;
using FluentAssertions;

namespace DaprShop.Ordering.Tests.Integration;

/// <summary>The back office's order list and its retry of a checkout whose payment webhook never arrived.</summary>
public sealed class BackOfficeTests
{
    private static readonly BasketItemDto OneMug = new("p-mug", 1);

    [Fact]
    public async Task Every_shoppers_orders_are_listed_newest_first_filtered_by_status_and_paged()
    {
        await using var shop = await Shop.StartAsync();
        shop.AddToBasket("jo", OneMug);
        shop.AddToBasket("kim", OneMug);
        await shop.CheckoutAsync("jo", "order-list-1");
        await shop.WaitForStatusAsync("order-list-1", OrderStatus.Confirmed);
        await shop.CheckoutAsync("kim", "order-list-2", Shop.DeclinedCard);
        await shop.WaitForStatusAsync("order-list-2", OrderStatus.Failed);
        using var http = shop.Ordering.CreateHttpClient();

        var all = await http.GetFromJsonAsync<OrderListPage>("/api/v1/orders", Shop.Json);
        var failed = await http.GetFromJsonAsync<OrderListPage>("/api/v1/orders?status=failed", Shop.Json);
        var secondPage = await http.GetFromJsonAsync<OrderListPage>("/api/v1/orders?pageSize=1&page=2", Shop.Json);
        using var badStatus = await http.GetAsync("/api/v1/orders?status=lost");

        all!.Items.Select(o => (o.OrderId, o.ShopperId, o.Status)).Should().Equal(
            ("order-list-2", "kim", OrderStatus.Failed), ("order-list-1", "jo", OrderStatus.Confirmed));
        all.TotalCount.Should().Be(2);
        all.Items[0].FailureReason.Should().Be("Your card was declined.");
        all.Items[1].Total.Should().Be(new Money(1_250, "EUR"));
        failed!.Items.Select(o => o.OrderId).Should().Equal("order-list-2");
        failed.TotalCount.Should().Be(1);
        secondPage!.Items.Select(o => o.OrderId).Should().Equal("order-list-1");
        secondPage.TotalCount.Should().Be(2);
        badStatus.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await badStatus.Content.ReadAsStringAsync()).Should().Contain("status");
    }

    [Fact]
    public async Task A_retry_after_a_lost_webhook_raises_the_providers_approval_and_the_order_completes()
    {
        await using var shop = await Shop.StartAsync();
        shop.AddToBasket("lee", OneMug);
        await shop.CheckoutAsync("lee", "order-retry", Shop.AsyncCard);
        await shop.WaitForStatusAsync("order-retry", OrderStatus.AwaitingPaymentConfirmation);
        using var http = shop.Ordering.CreateHttpClient();

        using var stillPending = await http.PostAsync("/api/v1/orders/order-retry/retry", null);
        shop.DecideAtProvider("order-retry", PaymentStatus.Approved);
        using var retried = await http.PostAsync("/api/v1/orders/order-retry/retry", null);
        var order = await shop.WaitForStatusAsync("order-retry", OrderStatus.Confirmed);
        using var afterwards = await http.PostAsync("/api/v1/orders/order-retry/retry", null);
        using var unknown = await http.PostAsync("/api/v1/orders/nope/retry", null);

        stillPending.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await stillPending.Content.ReadAsStringAsync()).Should().Contain("\"paymentStatus\":\"Pending\"");
        retried.StatusCode.Should().Be(HttpStatusCode.Accepted);
        retried.Headers.Location!.OriginalString.Should().Be("/api/v1/orders/order-retry");
        (await retried.Content.ReadFromJsonAsync<RetryAccepted>(Shop.Json)).Should().Be(new RetryAccepted("order-retry", PaymentStatus.Approved));
        order.Timeline.Select(e => e.Status).Should().ContainInOrder(OrderStatus.AwaitingPaymentConfirmation, OrderStatus.PaymentAuthorized, OrderStatus.Paid);
        afterwards.StatusCode.Should().Be(HttpStatusCode.Conflict, "a confirmed order has nothing to retry");
        unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_retry_after_a_lost_decline_fails_the_order_without_capturing()
    {
        await using var shop = await Shop.StartAsync();
        shop.AddToBasket("max", OneMug);
        await shop.CheckoutAsync("max", "order-retry-declined", Shop.AsyncCard);
        await shop.WaitForStatusAsync("order-retry-declined", OrderStatus.AwaitingPaymentConfirmation);
        shop.DecideAtProvider("order-retry-declined", PaymentStatus.Declined, "declined by the card issuer");
        using var http = shop.Ordering.CreateHttpClient();

        using var retried = await http.PostAsync("/api/v1/orders/order-retry-declined/retry", null);

        retried.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var order = await shop.WaitForStatusAsync("order-retry-declined", OrderStatus.Failed);
        order.FailureReason.Should().Be("Your card was declined.");
        shop.CallsTo(shop.Payment, "/internal/payments/order-retry-declined/capture").Should().Be(0);
    }
}
