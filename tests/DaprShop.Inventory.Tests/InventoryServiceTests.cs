using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DaprShop.Contracts;
using FluentAssertions;

namespace DaprShop.Inventory.Tests;

/// <summary>The inventory service through its real sidecar, as ordering and the back office reach it.</summary>
public sealed class InventoryServiceTests
{
    [Fact]
    public async Task Catalog_products_start_with_their_seeded_stock_and_unknown_products_are_404()
    {
        await using var host = await InventoryHost.StartAsync();
        using var http = host.Client();

        var stock = await host.StockAsync("p-0002");

        stock.Should().Be(new StockDto("p-0002", 74 % 51, 0, 74 % 51));
        (await http.GetAsync(InventoryHost.Invoke + "api/v1/inventory/p-9999")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Reserve_confirm_and_release_move_stock_between_available_reserved_and_gone()
    {
        await using var host = await InventoryHost.StartAsync();
        await host.RestockAsync("sku-a", 10);
        await host.RestockAsync("sku-b", 5);

        var reserved = await host.ReserveOkAsync("order-1", 600, ("sku-a", 3), ("sku-b", 2));
        reserved.Should().BeEquivalentTo(new ReservationResult("order-1", true, []));
        (await host.StockAsync("sku-a")).Should().Be(new StockDto("sku-a", 10, 3, 7));

        (await host.TransitionAsync("order-1", "confirm")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await host.TransitionAsync("order-1", "confirm")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await host.StockAsync("sku-a")).Should().Be(new StockDto("sku-a", 7, 0, 7));
        (await host.StockAsync("sku-b")).Should().Be(new StockDto("sku-b", 3, 0, 3));
        (await host.TransitionAsync("order-1", "release")).StatusCode.Should().Be(HttpStatusCode.Conflict);

        await host.ReserveOkAsync("order-2", 600, ("sku-a", 2));
        (await host.TransitionAsync("order-2", "release")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await host.TransitionAsync("order-2", "release")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await host.StockAsync("sku-a")).Should().Be(new StockDto("sku-a", 7, 0, 7));
        (await host.TransitionAsync("order-2", "confirm")).StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await host.TransitionAsync("order-404", "confirm")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_reservation_is_all_lines_or_none()
    {
        await using var host = await InventoryHost.StartAsync();
        await host.RestockAsync("sku-a", 10);
        await host.RestockAsync("sku-b", 1);

        var result = await host.ReserveOkAsync("order-1", 600, ("sku-a", 4), ("sku-b", 2), ("sku-never", 1));

        result.Reserved.Should().BeFalse();
        result.ShortProductIds.Should().BeEquivalentTo("sku-b", "sku-never");
        (await host.StockAsync("sku-a")).Should().Be(new StockDto("sku-a", 10, 0, 10));
        (await host.StockAsync("sku-b")).Should().Be(new StockDto("sku-b", 1, 0, 1));
        (await host.StatusAsync("order-1")).Should().Be("Rejected");
    }

    [Fact]
    public async Task Fifty_concurrent_reservations_for_ten_units_give_exactly_ten()
    {
        await using var host = await InventoryHost.StartAsync();
        await host.RestockAsync("sku-hot", 10);

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => host.ReserveOkAsync($"order-{i}", 600, ("sku-hot", 1))));

        results.Count(r => r.Reserved).Should().Be(10);
        results.Where(r => !r.Reserved).Should().HaveCount(40).And.OnlyContain(r => r.ShortProductIds.SequenceEqual(new[] { "sku-hot" }));
        (await host.StockAsync("sku-hot")).Should().Be(new StockDto("sku-hot", 10, 10, 0));

        var winners = results.Where(r => r.Reserved).Select(r => r.ReservationId).ToList();
        await Task.WhenAll(winners.Select(id => host.TransitionAsync(id, "confirm")));
        (await host.StockAsync("sku-hot")).Should().Be(new StockDto("sku-hot", 0, 0, 0));
    }

    [Fact]
    public async Task Reserving_twice_under_one_id_makes_one_reservation()
    {
        await using var host = await InventoryHost.StartAsync();
        await host.RestockAsync("sku-a", 5);

        var first = await host.ReserveOkAsync("order-1", 600, ("sku-a", 2));
        var again = await host.ReserveOkAsync("order-1", 600, ("sku-a", 2));

        first.Reserved.Should().BeTrue();
        again.Should().BeEquivalentTo(first);
        (await host.StockAsync("sku-a")).Should().Be(new StockDto("sku-a", 5, 2, 3));
        (await host.ReserveAsync("order-1", 600, ("sku-a", 3))).StatusCode.Should().Be(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Returning_a_confirmed_reservation_puts_its_units_back_once_and_returning_an_open_one_releases_it()
    {
        await using var host = await InventoryHost.StartAsync();
        await host.RestockAsync("sku-a", 10);
        await host.RestockAsync("sku-b", 5);
        await host.ReserveOkAsync("order-1", 600, ("sku-a", 3), ("sku-b", 2));
        (await host.TransitionAsync("order-1", "confirm")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await host.StockAsync("sku-a")).Should().Be(new StockDto("sku-a", 7, 0, 7));

        (await host.TransitionAsync("order-1", "return")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await host.TransitionAsync("order-1", "return")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        (await host.StockAsync("sku-a")).Should().Be(new StockDto("sku-a", 10, 0, 10));
        (await host.StockAsync("sku-b")).Should().Be(new StockDto("sku-b", 5, 0, 5));
        (await host.StatusAsync("order-1")).Should().Be("Returned");
        (await host.TransitionAsync("order-1", "confirm")).StatusCode.Should().Be(HttpStatusCode.Conflict, "returned units are not sold again under the same order");

        await host.ReserveOkAsync("order-2", 600, ("sku-a", 4));
        (await host.TransitionAsync("order-2", "return")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await host.StockAsync("sku-a")).Should().Be(new StockDto("sku-a", 10, 0, 10));
        (await host.StatusAsync("order-2")).Should().Be("Released");

        (await host.TransitionAsync("order-unknown", "return")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await host.ReserveAsync("order-unknown", 600, ("sku-a", 1))).StatusCode.Should().Be(HttpStatusCode.Conflict, "a return leaves the same tombstone as a release");
    }

    [Fact]
    public async Task A_reserve_arriving_after_its_release_holds_nothing()
    {
        await using var host = await InventoryHost.StartAsync();
        await host.RestockAsync("sku-a", 5);

        (await host.TransitionAsync("order-late", "release")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        (await host.ReserveAsync("order-late", 600, ("sku-a", 1))).StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await host.StockAsync("sku-a")).Available.Should().Be(5);
    }

    [Fact]
    public async Task An_expired_reservation_gives_its_stock_back()
    {
        await using var host = await InventoryHost.StartAsync();
        await host.RestockAsync("sku-a", 4);
        await host.ReserveOkAsync("order-1", 2, ("sku-a", 3));
        (await host.StockAsync("sku-a")).Available.Should().Be(1);

        StockDto? stock = null;
        await Eventually.HoldsAsync(() => (stock = host.StockAsync("sku-a").GetAwaiter().GetResult()).Available == 4,
            TimeSpan.FromSeconds(30), "the expiry reminder should release the hold");

        stock.Should().Be(new StockDto("sku-a", 4, 0, 4));
        (await host.StatusAsync("order-1")).Should().Be("Expired");
        (await host.TransitionAsync("order-1", "confirm")).StatusCode.Should().Be(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_reserve_cut_short_before_it_saved_its_reservation_has_its_holds_released_by_the_expiry_reminder()
    {
        await using var host = await InventoryHost.StartAsync();
        await host.RestockAsync("sku-a", 5);
        await host.RestockAsync("sku-b", 5);
        using var http = host.Client();
        // What a reserve leaves when it dies after its first hold: the armed reminder (carrying the lines, as the SDK
        // sends a reminder's bytes) and a hold, but no reservation.
        var lines = JsonSerializer.SerializeToUtf8Bytes(new[] { new BasketItemDto("sku-a", 2), new BasketItemDto("sku-b", 1) }, new JsonSerializerOptions(JsonSerializerDefaults.Web));
        (await http.PostAsJsonAsync("/v1.0/actors/Reservation/order-cut/reminders/expiry",
            new { dueTime = "0h0m2s0ms", period = "0h0m30s0ms", data = Convert.ToBase64String(lines) })).EnsureSuccessStatusCode();
        (await http.PostAsJsonAsync("/v1.0/actors/Stock/sku-a/method/HoldAsync", new { reservationId = "order-cut", quantity = 2 })).EnsureSuccessStatusCode();
        (await host.StockAsync("sku-a")).Available.Should().Be(3);
        (await host.StatusAsync("order-cut")).Should().BeNull("the reservation was never saved");

        await Eventually.HoldsAsync(() => host.StatusAsync("order-cut").GetAwaiter().GetResult() == "Expired",
            TimeSpan.FromSeconds(30), "the expiry reminder should release what the lines it carries held");

        (await host.StockAsync("sku-a")).Should().Be(new StockDto("sku-a", 5, 0, 5));
        (await host.StockAsync("sku-b")).Should().Be(new StockDto("sku-b", 5, 0, 5), "a line never held is released as a no-op");
        (await host.ReserveAsync("order-cut", 600, ("sku-a", 2), ("sku-b", 1))).StatusCode.Should().Be(HttpStatusCode.Conflict, "a retry after the expiry holds nothing");
    }

    [Fact]
    public async Task A_confirm_cut_short_before_its_sku_followed_is_finished_by_a_repeat_a_return_or_the_expiry_reminder()
    {
        await using var host = await InventoryHost.StartAsync();
        using var http = host.Client();
        // What a confirm leaves when it dies after saving its decision and before the SKU confirmed: a reservation
        // confirmed, its SKU still holding (made here by confirming, then putting the units back and holding them again).
        async Task CutShortConfirmAsync(string orderId, string productId)
        {
            await host.RestockAsync(productId, 10);
            await host.ReserveOkAsync(orderId, 600, (productId, 3));
            (await host.TransitionAsync(orderId, "confirm")).StatusCode.Should().Be(HttpStatusCode.NoContent);
            await host.RestockAsync(productId, 3);
            (await http.PostAsJsonAsync($"/v1.0/actors/Stock/{productId}/method/HoldAsync", new { reservationId = orderId, quantity = 3 })).EnsureSuccessStatusCode();
            (await host.StockAsync(productId)).Should().Be(new StockDto(productId, 10, 3, 7));
        }

        await CutShortConfirmAsync("order-again", "sku-a");
        (await host.TransitionAsync("order-again", "confirm")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await host.StockAsync("sku-a")).Should().Be(new StockDto("sku-a", 7, 0, 7), "the saga's retry of the confirm confirms the SKU");

        await CutShortConfirmAsync("order-returned", "sku-b");
        (await host.TransitionAsync("order-returned", "return")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await host.StockAsync("sku-b")).Should().Be(new StockDto("sku-b", 10, 0, 10), "the units never left: the hold is released, nothing is added");
        (await host.StatusAsync("order-returned")).Should().Be("Returned");

        await CutShortConfirmAsync("order-reminded", "sku-c");
        (await http.PostAsJsonAsync("/v1.0/actors/Reservation/order-reminded/reminders/expiry",
            new { dueTime = "0h0m1s0ms", period = "0h0m30s0ms" })).EnsureSuccessStatusCode();
        await Eventually.HoldsAsync(() => host.StockAsync("sku-c").GetAwaiter().GetResult() == new StockDto("sku-c", 7, 0, 7),
            TimeSpan.FromSeconds(30), "the still-armed expiry reminder finds the reservation confirmed and confirms the SKU");
        await Eventually.HoldsAsync(() => http.GetAsync("/v1.0/actors/Reservation/order-reminded/reminders/expiry").GetAwaiter().GetResult().StatusCode == HttpStatusCode.NotFound,
            TimeSpan.FromSeconds(30), "the reminder removes itself once the SKU followed (daprd answers a missing reminder with 404)");
        (await host.StatusAsync("order-reminded")).Should().Be("Confirmed");
    }

    [Fact]
    public async Task A_release_cut_short_before_its_sku_followed_is_finished_by_a_repeat_and_cannot_be_confirmed()
    {
        await using var host = await InventoryHost.StartAsync();
        using var http = host.Client();
        await host.RestockAsync("sku-a", 10);
        await host.ReserveOkAsync("order-1", 600, ("sku-a", 2));
        (await host.TransitionAsync("order-1", "release")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        // The decision is saved and the SKU still holds: what a release leaves when it dies between the two.
        (await http.PostAsJsonAsync("/v1.0/actors/Stock/sku-a/method/HoldAsync", new { reservationId = "order-1", quantity = 2 })).EnsureSuccessStatusCode();

        (await host.TransitionAsync("order-1", "confirm")).StatusCode.Should().Be(HttpStatusCode.Conflict, "a released reservation is never sold");
        (await host.TransitionAsync("order-1", "release")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        (await host.StockAsync("sku-a")).Should().Be(new StockDto("sku-a", 10, 0, 10));
    }

    [Fact]
    public async Task Restocking_publishes_StockRestocked_and_selling_below_the_threshold_publishes_StockLow()
    {
        await using var host = await InventoryHost.StartAsync(withWatcher: true, new Dictionary<string, string> { ["Inventory__LowStockThreshold"] = "3" });

        var restocked = await host.RestockAsync("sku-new", 4);
        await host.ReserveOkAsync("order-1", 600, ("sku-new", 2));

        restocked.Should().Be(new StockDto("sku-new", 4, 0, 4));
        await Eventually.HoldsAsync(() => host.Events.Any(e => e.Topic == Topics.StockRestocked) && host.Events.Any(e => e.Topic == Topics.StockLow),
            TimeSpan.FromSeconds(20), "the watcher should receive StockRestocked and StockLow");
        var restockEvent = host.Events.First(e => e.Topic == Topics.StockRestocked).Data.Deserialize<StockRestocked>(JsonSerializerOptions.Web)!;
        (restockEvent.ProductId, restockEvent.Quantity, restockEvent.Available).Should().Be(("sku-new", 4, 4));
        var lowEvent = host.Events.First(e => e.Topic == Topics.StockLow).Data.Deserialize<StockLow>(JsonSerializerOptions.Web)!;
        (lowEvent.ProductId, lowEvent.Available, lowEvent.Threshold).Should().Be(("sku-new", 2, 3));
    }

    [Fact]
    public async Task Selling_out_and_a_released_hold_bringing_stock_back_publish_StockLow_so_listeners_can_follow_in_stock()
    {
        await using var host = await InventoryHost.StartAsync(withWatcher: true, new Dictionary<string, string> { ["Inventory__LowStockThreshold"] = "3" });
        await host.RestockAsync("sku-last", 4);

        await host.ReserveOkAsync("order-1", 600, ("sku-last", 2)); // 4 → 2: below the threshold
        await host.ReserveOkAsync("order-2", 600, ("sku-last", 2)); // 2 → 0: sold out
        (await host.TransitionAsync("order-2", "release")).StatusCode.Should().Be(HttpStatusCode.NoContent); // 0 → 2: back

        await Eventually.HoldsAsync(() => host.Events.Count(e => e.Topic == Topics.StockLow) >= 3, TimeSpan.FromSeconds(20),
            "the watcher should hear of the threshold, the sell-out and the return");
        host.Events.Where(e => e.Topic == Topics.StockLow)
            .Select(e => e.Data.Deserialize<StockLow>(JsonSerializerOptions.Web)!)
            .OrderBy(e => e.At)
            .Select(e => e.Available)
            .Should().Equal(2, 0, 2);
    }

    [Fact]
    public async Task A_stock_event_the_broker_refused_is_kept_with_the_stock_change_and_published_once_the_broker_is_back()
    {
        await using var host = await InventoryHost.StartAsync(withWatcher: true);
        // The inventory's sidecar loses its pub/sub: the component is scoped to another app.
        host.Resources.With($"{Components.PubSub}.yaml", $"""
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: {Components.PubSub}
            spec:
              type: pubsub.in-memory
              version: v1
            scopes:
            - someone-else
            """);
        await host.RestartServiceAndSidecarAsync();

        var restocked = await host.RestockAsync("sku-outbox", 7);

        restocked.Should().Be(new StockDto("sku-outbox", 7, 0, 7), "the restock happened although its event could not be published");
        await Eventually.HoldsAsync(() => host.Service.Output.Contains("it stays in the outbox", StringComparison.Ordinal), TimeSpan.FromSeconds(10),
            "the publish should have been refused");
        host.Events.Should().BeEmpty();

        host.Resources.WithComponent(Components.PubSub, "pubsub.in-memory", ("redeliverInterval", "200ms"));
        await host.RestartServiceAndSidecarAsync();

        await Eventually.HoldsAsync(() => host.Events.Any(e => e.Topic == Topics.StockRestocked), TimeSpan.FromSeconds(30),
            "the actor's reminder should publish the event it kept");
        var published = host.Events.Where(e => e.Topic == Topics.StockRestocked).Select(e => e.Data.Deserialize<StockRestocked>(JsonSerializerOptions.Web)!).ToList();
        published.Select(e => (e.ProductId, e.Quantity, e.Available)).Should().Equal([("sku-outbox", 7, 7)]);
        (await host.StockAsync("sku-outbox")).Should().Be(new StockDto("sku-outbox", 7, 0, 7));
    }

    [Fact]
    public async Task Invalid_requests_name_the_field()
    {
        await using var host = await InventoryHost.StartAsync();
        using var http = host.Client();

        await ShouldNameField(await http.PostAsJsonAsync(InventoryHost.Invoke + "api/v1/inventory/sku-a/restock", new { quantity = 0 }), "quantity");
        await ShouldNameField(await host.ReserveAsync("order-1", 0, ("sku-a", 1)), "expiresInSeconds");
        await ShouldNameField(await host.ReserveAsync("order-1", 60, ("sku-a", 0)), "lines[0].quantity");
        (await http.GetAsync(InventoryHost.Invoke + "api/v1/inventory/sku-a")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Stock_and_reservations_survive_a_restart_of_the_service_and_its_sidecar()
    {
        await using var host = await InventoryHost.StartAsync();
        await host.RestockAsync("sku-a", 6);
        await host.ReserveOkAsync("order-1", 600, ("sku-a", 2));
        await host.ReserveOkAsync("order-2", 600, ("sku-a", 1));

        await host.Service.RestartServiceAsync();
        (await host.StockAsync("sku-a")).Should().Be(new StockDto("sku-a", 6, 3, 3));

        await host.RestartServiceAndSidecarAsync();
        (await host.StockAsync("sku-a")).Should().Be(new StockDto("sku-a", 6, 3, 3));
        (await host.StatusAsync("order-1")).Should().Be("Held");
        (await host.TransitionAsync("order-1", "confirm")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await host.TransitionAsync("order-2", "release")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await host.StockAsync("sku-a")).Should().Be(new StockDto("sku-a", 4, 0, 4));
    }

    private static async Task ShouldNameField(HttpResponseMessage response, string field)
    {
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        problem.RootElement.GetProperty("errors").TryGetProperty(field, out _).Should().BeTrue($"the problem should name {field}: {problem.RootElement}");
    }
}
