using System.Net;
using System.Net.Http.Json;
using System.Text;
using DaprShop.Contracts;
using DaprShop.Ordering.Orders;
using DaprShop.Ordering.Workflows;
using DaprShop.Testing;
using FluentAssertions;

namespace DaprShop.Ordering.Tests.Integration;

/// <summary>Checkouts through the real ordering process, its sidecar's workflow engine and peer services over Dapr.</summary>
public sealed class CheckoutTests
{
    private static readonly BasketItemDto TwoLamps = new("p-lamp", 2);
    private static readonly BasketItemDto OneMug = new("p-mug", 1);

    [Fact]
    public async Task A_full_checkout_reaches_confirmed_at_catalog_prices_and_publishes_order_confirmed()
    {
        await using var shop = await Shop.StartAsync();
        shop.AddToBasket("ada", TwoLamps, OneMug);

        using var response = await shop.CheckoutAsync("ada", "order-full-1");

        response.StatusCode.Should().Be(HttpStatusCode.Accepted);
        response.Headers.Location!.OriginalString.Should().Be("/api/v1/orders/order-full-1");
        (await response.Content.ReadFromJsonAsync<CheckoutAccepted>())!.OrderId.Should().Be("order-full-1");
        var order = await shop.WaitForStatusAsync("order-full-1", OrderStatus.Confirmed);
        order.Total.Should().Be(new Money(2 * 4_990 + 1_250, "EUR"));
        order.Lines.Should().Equal(new OrderLine("p-lamp", "Lamp", 2, new Money(4_990, "EUR")), new OrderLine("p-mug", "Mug", 1, new Money(1_250, "EUR")));
        order.Timeline.Select(e => e.Status).Should().Equal(OrderStatus.Submitted, OrderStatus.StockReserved, OrderStatus.PaymentAuthorized, OrderStatus.Paid, OrderStatus.Confirmed);
        shop.CallsTo(shop.Inventory, "/internal/inventory/reservations/order-full-1/confirm").Should().BeGreaterThan(0);
        shop.CallsTo(shop.Inventory, "/internal/inventory/reservations/order-full-1/release").Should().Be(0);
        shop.Basket.RequestsTo("/api/v1/baskets/ada").Should().OnlyContain(r => r.Method == "GET", "the basket service empties the basket when it hears OrderConfirmed");
        await Eventually.HoldsAsync(() => shop.Subscriber.RequestsTo("/events/" + Topics.OrderConfirmed).Any(r => r.BodyText.Contains("order-full-1")),
            "OrderConfirmed reaches subscribers");
        var authorize = shop.Payment.RequestsTo("/internal/payments/authorize").Single();
        authorize.BodyText.Should().Contain("\"amount\":11230");
        authorize.Headers["idempotency-key"].Should().Be("order-full-1");

        using var http = shop.Ordering.CreateHttpClient();
        var history = await http.GetFromJsonAsync<List<OrderSummary>>("/api/v1/shoppers/ada/orders", Shop.Json);
        history!.Select(o => (o.OrderId, o.Status)).Should().Equal(("order-full-1", OrderStatus.Confirmed));
    }

    [Fact]
    public async Task Steps_the_saga_passed_since_its_last_record_show_in_the_order_and_the_history_before_they_are_written()
    {
        await using var shop = await Shop.StartAsync();
        await shop.CheckOutUntilCaptureAsync("ivy", "order-live", OneMug);

        var live = await shop.GetOrderAsync("order-live");
        live!.Status.Should().Be(OrderStatus.PaymentAuthorized);
        live.Timeline.Select(e => e.Status).Should().Equal(OrderStatus.Submitted, OrderStatus.StockReserved, OrderStatus.PaymentAuthorized);
        using (var http = shop.Ordering.CreateHttpClient())
        {
            var history = await http.GetFromJsonAsync<List<OrderSummary>>("/api/v1/shoppers/ivy/orders", Shop.Json);
            history!.Single().Status.Should().Be(OrderStatus.PaymentAuthorized);
        }
        using (var sidecar = new HttpClient { BaseAddress = shop.Ordering.Sidecar.HttpEndpoint })
        {
            var stored = await sidecar.GetFromJsonAsync<Order>($"/v1.0/state/{Components.StateStore}/{OrderReadModel.OrderKey("order-live")}", Shop.Json);
            stored!.Timeline.Select(e => e.Status).Should().Equal([OrderStatus.Submitted], "the steps in between are the workflow's custom status until the next record");
        }

        shop.CaptureGate!.SetResult();
        var order = await shop.WaitForStatusAsync("order-live", OrderStatus.Confirmed);
        order.Timeline.Select(e => e.Status).Should().Equal(OrderStatus.Submitted, OrderStatus.StockReserved, OrderStatus.PaymentAuthorized, OrderStatus.Paid, OrderStatus.Confirmed);
        order.Timeline.Select(e => e.At).Should().BeInAscendingOrder();
        order.Timeline[2].At.Should().Be(live.Timeline[2].At, "the record writes the step with the time the saga passed it");
    }

    [Fact]
    public async Task A_declined_card_fails_the_order_and_releases_the_reservation()
    {
        await using var shop = await Shop.StartAsync();
        shop.AddToBasket("bob", TwoLamps);

        (await shop.CheckoutAsync("bob", "order-declined", Shop.DeclinedCard)).StatusCode.Should().Be(HttpStatusCode.Accepted);

        var order = await shop.WaitForStatusAsync("order-declined", OrderStatus.Failed);
        order.FailureReason.Should().Be("Your card was declined.");
        shop.CallsTo(shop.Inventory, "/internal/inventory/reservations/order-declined/release").Should().BeGreaterThan(0);
        shop.CallsTo(shop.Payment, "/internal/payments/order-declined/capture").Should().Be(0);
        shop.Baskets.Should().ContainKey("bob", "a failed order leaves the basket for another try");
        await Eventually.HoldsAsync(() => shop.Subscriber.RequestsTo("/events/" + Topics.OrderFailed).Any(r => r.BodyText.Contains("order-declined")),
            "OrderFailed reaches subscribers");
    }

    [Fact]
    public async Task An_out_of_stock_product_fails_the_order_by_name_without_charging()
    {
        await using var shop = await Shop.StartAsync();
        shop.AddToBasket("cy", TwoLamps);
        shop.OutOfStock["p-lamp"] = true;

        await shop.CheckoutAsync("cy", "order-oos");

        var order = await shop.WaitForStatusAsync("order-oos", OrderStatus.Failed);
        order.FailureReason.Should().Be("Sorry, 'Lamp' is out of stock.");
        shop.CallsTo(shop.Payment, "/internal/payments/authorize").Should().Be(0);
    }

    [Fact]
    public async Task An_asynchronous_confirmation_through_the_signed_webhook_completes_the_order()
    {
        await using var shop = await Shop.StartAsync();
        shop.AddToBasket("di", OneMug);
        await shop.CheckoutAsync("di", "order-async", Shop.AsyncCard);
        await shop.WaitForStatusAsync("order-async", OrderStatus.AwaitingPaymentConfirmation);
        using var http = shop.Ordering.CreateHttpClient();
        var body = Encoding.UTF8.GetBytes("""{"paymentId":"order-async","approved":true,"reason":null}""");

        using var unsigned = await PostWebhookAsync(http, body, PaymentWebhook.Sign("wrong-key", body));
        using var signed = await PostWebhookAsync(http, body, PaymentWebhook.Sign(Shop.WebhookKey, body));

        unsigned.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        signed.StatusCode.Should().Be(HttpStatusCode.Accepted);
        var order = await shop.WaitForStatusAsync("order-async", OrderStatus.Confirmed);
        order.Timeline.Select(e => e.Status).Should().ContainInOrder(OrderStatus.AwaitingPaymentConfirmation, OrderStatus.PaymentAuthorized, OrderStatus.Paid);
    }

    [Fact]
    public async Task A_confirmation_that_never_arrives_times_out_voids_and_releases()
    {
        await using var shop = await Shop.StartAsync(new Dictionary<string, string> { ["Ordering__PaymentConfirmationTimeout"] = "00:00:03" });
        shop.AddToBasket("ed", OneMug);

        await shop.CheckoutAsync("ed", "order-timeout", Shop.AsyncCard);

        var order = await shop.WaitForStatusAsync("order-timeout", OrderStatus.Failed);
        order.FailureReason.Should().Be("The payment was not confirmed in time.");
        var awaiting = order.Timeline.Single(e => e.Status == OrderStatus.AwaitingPaymentConfirmation).At;
        var failed = order.Timeline.Single(e => e.Status == OrderStatus.Failed).At;
        (failed - awaiting).Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(3));
        shop.CallsTo(shop.Payment, "/internal/payments/order-timeout/void").Should().BeGreaterThan(0);
        shop.CallsTo(shop.Inventory, "/internal/inventory/reservations/order-timeout/release").Should().BeGreaterThan(0);
        shop.CallsTo(shop.Payment, "/internal/payments/order-timeout/capture").Should().Be(0);
    }

    [Fact]
    public async Task The_same_idempotency_key_twice_gives_one_order_and_one_authorization()
    {
        await using var shop = await Shop.StartAsync();
        shop.AddToBasket("fay", OneMug);

        var responses = await Task.WhenAll(shop.CheckoutAsync("fay", "order-twice"), shop.CheckoutAsync("fay", "order-twice"));
        await shop.WaitForStatusAsync("order-twice", OrderStatus.Confirmed);
        using var third = await shop.CheckoutAsync("fay", "order-twice");
        using var otherShopper = await shop.CheckoutAsync("gil", "order-twice");

        responses.Concat([third]).Select(r => r.StatusCode).Should().AllBeEquivalentTo(HttpStatusCode.Accepted);
        responses.Concat([third]).Select(r => r.Headers.Location!.OriginalString).Distinct().Should().Equal("/api/v1/orders/order-twice");
        shop.CallsTo(shop.Payment, "/internal/payments/authorize").Should().Be(1);
        shop.CallsTo(shop.Payment, "/internal/payments/order-twice/capture").Should().Be(1);
        (await shop.GetOrderAsync("order-twice"))!.Status.Should().Be(OrderStatus.Confirmed, "a repeated key never starts the finished saga again");
        otherShopper.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await otherShopper.Content.ReadAsStringAsync()).Should().Contain("Idempotency-Key");
        foreach (var r in responses)
        {
            r.Dispose();
        }
    }

    [Fact]
    public async Task The_ordering_service_restarted_in_the_middle_of_a_checkout_still_completes_it()
    {
        await using var shop = await Shop.StartAsync();
        await shop.CheckOutUntilCaptureAsync("gus", "order-restart", TwoLamps);

        shop.Ordering.KillService();
        await shop.Ordering.RestartServiceAsync();
        shop.CaptureGate!.SetResult();

        var order = await shop.WaitForStatusAsync("order-restart", OrderStatus.Confirmed);
        order.Timeline.Select(e => e.Status).Should().EndWith([OrderStatus.Paid, OrderStatus.Confirmed]);
        shop.CallsTo(shop.Payment, "/internal/payments/authorize").Should().Be(1, "a step completed before the crash is not run again");
    }

    [Fact]
    public async Task A_confirmed_order_whose_event_the_broker_refuses_stays_confirmed_unrefunded_and_its_event_goes_out_once_the_broker_takes_it()
    {
        await using var shop = await Shop.StartAsync();
        // The broker refuses ordering's OrderConfirmed (topic scoping answers ERR_PUBSUB_FORBIDDEN), as a broker outage
        // that starts after the submit would.
        await shop.RestartOrderingAsync(("publishingScopes", $"{AppIds.Ordering}={Topics.OrderSubmitted},{Topics.OrderFailed},{Topics.OrderCancelled}"));
        shop.AddToBasket("ivy", TwoLamps);
        (await shop.CheckoutAsync("ivy", "order-unheard")).StatusCode.Should().Be(HttpStatusCode.Accepted);

        await shop.WaitForStatusAsync("order-unheard", OrderStatus.Confirmed);
        // Longer than a step's retries last: a saga that failed its last step for the refused event would have
        // compensated by now.
        var retry = CheckoutWorkflow.Retry.RetryPolicy!;
        var retriesLast = Enumerable.Range(0, retry.MaxNumberOfAttempts - 1)
            .Sum(i => Math.Min(retry.FirstRetryInterval.TotalSeconds * Math.Pow(retry.BackoffCoefficient, i), retry.MaxRetryInterval?.TotalSeconds ?? double.MaxValue));
        await Task.Delay(TimeSpan.FromSeconds(retriesLast + 5));
        shop.CallsTo(shop.Subscriber, "/events/" + Topics.OrderConfirmed).Should().Be(0, "the broker refuses the event");
        shop.CallsTo(shop.Payment, "/internal/payments/order-unheard/refund").Should().Be(0, "a confirmed order is not refunded for a broker outage");

        await shop.RestartOrderingAsync();

        await Eventually.HoldsAsync(() => shop.CallsTo(shop.Subscriber, "/events/" + Topics.OrderConfirmed) > 0, TimeSpan.FromSeconds(90),
            "the saga publishes the event again until the broker takes it");
        shop.CallsTo(shop.Payment, "/internal/payments/order-unheard/refund").Should().Be(0, "a confirmed order is not refunded for a broker outage");
        shop.CallsTo(shop.Inventory, "/internal/inventory/reservations/order-unheard/return").Should().Be(0);
        (await shop.GetOrderAsync("order-unheard"))!.Status.Should().Be(OrderStatus.Confirmed);
    }

    [Fact]
    public async Task A_checkout_without_an_idempotency_key_or_with_bad_fields_is_refused_naming_them_and_starts_nothing()
    {
        await using var shop = await Shop.StartAsync();
        using var http = shop.Ordering.CreateHttpClient();

        using var noKey = await http.PostAsJsonAsync("/api/v1/orders", Shop.CheckoutBody("hal"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders")
        {
            Content = JsonContent.Create(new { shopperId = "hal", email = "hal@example.com", card = new { number = "1234", holder = "H", expiry = "1/2", cvc = "x" } }),
        };
        request.Headers.Add("Idempotency-Key", "order-bad");
        using var badFields = await http.SendAsync(request);
        using var unknown = await http.GetAsync("/api/v1/orders/order-bad");

        noKey.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await noKey.Content.ReadAsStringAsync()).Should().Contain("Idempotency-Key");
        badFields.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        badFields.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var problem = await badFields.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ValidationProblemDetails>();
        problem!.Errors.Keys.Should().Contain(["shippingAddress", "card.number", "card.expiry", "card.cvc"]);
        unknown.StatusCode.Should().Be(HttpStatusCode.NotFound, "a refused checkout leaves no order behind");
    }

    [Fact]
    public async Task An_order_waiting_for_its_payment_can_be_cancelled_and_a_finished_one_cannot()
    {
        await using var shop = await Shop.StartAsync();
        shop.AddToBasket("ivy", OneMug);
        await shop.CheckoutAsync("ivy", "order-cancel", Shop.AsyncCard);
        await shop.WaitForStatusAsync("order-cancel", OrderStatus.AwaitingPaymentConfirmation);
        using var http = shop.Ordering.CreateHttpClient();

        using var cancel = await http.PostAsJsonAsync("/api/v1/orders/order-cancel/cancel", new { reason = "Changed my mind" });
        var order = await shop.WaitForStatusAsync("order-cancel", OrderStatus.Cancelled);
        using var again = await http.PostAsJsonAsync("/api/v1/orders/order-cancel/cancel", new { reason = "again" });
        using var unknown = await http.PostAsJsonAsync("/api/v1/orders/nope/cancel", new { reason = "x" });

        cancel.StatusCode.Should().Be(HttpStatusCode.Accepted);
        order.FailureReason.Should().Be("Changed my mind");
        shop.CallsTo(shop.Payment, "/internal/payments/order-cancel/void").Should().BeGreaterThan(0);
        shop.CallsTo(shop.Inventory, "/internal/inventory/reservations/order-cancel/release").Should().BeGreaterThan(0);
        again.StatusCode.Should().Be(HttpStatusCode.Conflict);
        unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    private static Task<HttpResponseMessage> PostWebhookAsync(HttpClient http, byte[] body, string signature)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/payments/webhook") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add(PaymentWebhook.SignatureHeader, signature);
        return http.SendAsync(request);
    }
}
