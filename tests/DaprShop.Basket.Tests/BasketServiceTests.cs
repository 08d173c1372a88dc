using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DaprShop.Contracts;
using FluentAssertions;

namespace DaprShop.Basket.Tests;

/// <summary>The basket service through its real sidecar, as the storefront and ordering reach it.</summary>
public sealed class BasketServiceTests
{
    private static (string, int)[] Lines(BasketDto basket) => [.. basket.Items.Select(i => (i.ProductId, i.Quantity))];

    [Fact]
    public async Task A_new_shopper_has_an_empty_basket()
    {
        await using var host = await BasketHost.StartAsync();

        var basket = await host.GetAsync("alice");

        basket.ShopperId.Should().Be("alice");
        basket.Items.Should().BeEmpty();
    }

    [Fact]
    public async Task Items_are_added_changed_removed_and_cleared_through_dapr_invocation()
    {
        await using var host = await BasketHost.StartAsync();
        using var http = host.Client();

        (await host.AddAsync("alice", "p-0001", 2)).StatusCode.Should().Be(HttpStatusCode.OK);
        var added = await (await host.AddAsync("alice", "p-0001", 3)).Content.ReadFromJsonAsync<BasketDto>();
        Lines(added!).Should().Equal(("p-0001", 5));
        (await host.AddAsync("alice", "p-0002", 1)).StatusCode.Should().Be(HttpStatusCode.OK);

        var changed = await http.PutAsJsonAsync(BasketHost.Route("alice/items/p-0001"), new { quantity = 7 });
        changed.StatusCode.Should().Be(HttpStatusCode.OK);
        Lines(await host.GetAsync("alice")).Should().Equal(("p-0001", 7), ("p-0002", 1));

        (await http.DeleteAsync(BasketHost.Route("alice/items/p-0002"))).StatusCode.Should().Be(HttpStatusCode.OK);
        Lines(await host.GetAsync("alice")).Should().Equal(("p-0001", 7));

        (await http.PutAsJsonAsync(BasketHost.Route("alice/items/p-0001"), new { quantity = 0 })).StatusCode.Should().Be(HttpStatusCode.OK);
        (await host.GetAsync("alice")).Items.Should().BeEmpty();

        await host.AddAsync("alice", "p-0003", 4);
        (await http.DeleteAsync(BasketHost.Route("alice"))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await host.GetAsync("alice")).Items.Should().BeEmpty();
    }

    [Fact]
    public async Task Refused_requests_name_the_field_and_leave_the_basket_unchanged()
    {
        await using var host = await BasketHost.StartAsync();
        using var http = host.Client();
        await host.AddAsync("bob", "p-0001", 98);

        await ShouldNameField(await host.AddAsync("bob", "p-0001", 2), HttpStatusCode.BadRequest, "quantity");
        await ShouldNameField(await host.AddAsync("bob", "p-0002", 0), HttpStatusCode.BadRequest, "quantity");
        await ShouldNameField(await host.AddAsync("bob", "x-unknown", 1), HttpStatusCode.UnprocessableEntity, "productId");
        await ShouldNameField(await host.AddAsync("bad%20id", "p-0001", 1), HttpStatusCode.BadRequest, "shopperId");
        await ShouldNameField(await http.PutAsJsonAsync(BasketHost.Route("bob/items/p-0001"), new { quantity = 100 }), HttpStatusCode.BadRequest, "quantity");
        (await http.PutAsJsonAsync(BasketHost.Route("bob/items/p-0009"), new { quantity = 1 })).StatusCode.Should().Be(HttpStatusCode.NotFound);

        Lines(await host.GetAsync("bob")).Should().Equal(("p-0001", 98));
    }

    [Fact]
    public async Task A_refused_change_to_a_basket_nobody_has_stores_nothing()
    {
        await using var host = await BasketHost.StartAsync();
        using var http = host.Client();

        // Removing from a basket that does not exist (idempotent: 200, the line is not there) and an add the actor
        // refuses: the empty basket each started from must not be saved when the actor method ends.
        (await http.DeleteAsync(BasketHost.Route("ivy/items/p-0001"))).StatusCode.Should().Be(HttpStatusCode.OK);
        var direct = await http.PostAsJsonAsync("/v1.0/actors/Basket/ivy/method/AddAsync", new { productId = "p-0001", quantity = 1000 });
        direct.StatusCode.Should().Be(HttpStatusCode.OK);
        using (var outcome = JsonDocument.Parse(await direct.Content.ReadAsStringAsync()))
        {
            outcome.RootElement.GetProperty("violation").ToString().Should().BeOneOf("1", nameof(DaprShop.Basket.Baskets.BasketViolation.QuantityOutOfRange));
            outcome.RootElement.GetProperty("basket").GetProperty("items").GetArrayLength().Should().Be(0);
        }

        var stored = await http.GetAsync("/v1.0/actors/Basket/ivy/state/basket");
        stored.StatusCode.Should().Be(HttpStatusCode.NoContent, "a refused change leaves no state behind");
        Lines(await host.GetAsync("ivy")).Should().BeEmpty();
    }

    [Fact]
    public async Task A_catalog_outage_answers_503_and_adds_nothing()
    {
        await using var host = await BasketHost.StartAsync(withCatalog: false);

        var response = await host.AddAsync("carol", "p-0001", 1);

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        (await host.GetAsync("carol")).Items.Should().BeEmpty();
    }

    [Fact]
    public async Task A_product_the_catalog_confirmed_is_added_again_without_asking_it_even_while_it_is_down()
    {
        await using var host = await BasketHost.StartAsync();
        (await host.AddAsync("cora", "p-0001", 1)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await host.AddAsync("cora", "x-404", 1)).StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        (await host.AddAsync("dan", "x-404", 1)).StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        host.Catalog!.RequestsTo("/api/v1/catalog/products/x-404").Should().HaveCount(2, "an unknown product is never taken from memory");

        await host.StopCatalogAsync();

        (await host.AddAsync("dan", "p-0001", 2)).StatusCode.Should().Be(HttpStatusCode.OK, "the catalog confirmed p-0001 within the last minute");
        Lines(await host.GetAsync("dan")).Should().Equal(("p-0001", 2));
        (await host.AddAsync("dan", "p-0002", 1)).StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable, "p-0002 was never confirmed");
    }

    [Fact]
    public async Task With_known_products_off_every_add_asks_the_catalog()
    {
        await using var host = await BasketHost.StartAsync(environment: new Dictionary<string, string> { ["Basket__KnownProductsFor"] = "00:00:00" });

        (await host.AddAsync("eve", "p-0001", 1)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await host.AddAsync("eve", "p-0001", 1)).StatusCode.Should().Be(HttpStatusCode.OK);

        host.Catalog!.RequestsTo("/api/v1/catalog/products/p-0001").Should().HaveCount(2);
    }

    [Fact]
    public async Task Concurrent_adds_to_one_basket_all_count()
    {
        await using var host = await BasketHost.StartAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => host.AddAsync("dave", i % 2 == 0 ? "p-0001" : "p-0002", 1)));

        responses.Should().OnlyContain(r => r.StatusCode == HttpStatusCode.OK);
        Lines(await host.GetAsync("dave")).Should().BeEquivalentTo([("p-0001", 15), ("p-0002", 15)]);
    }

    [Fact]
    public async Task The_basket_survives_a_restart_of_the_service_and_of_its_sidecar()
    {
        await using var host = await BasketHost.StartAsync();
        await host.AddAsync("erin", "p-0001", 2);
        await host.AddAsync("erin", "p-0002", 3);

        await host.Service.RestartServiceAsync();
        Lines(await host.GetAsync("erin")).Should().Equal(("p-0001", 2), ("p-0002", 3));

        await host.RestartServiceAndSidecarAsync();
        Lines(await host.GetAsync("erin")).Should().Equal(("p-0001", 2), ("p-0002", 3));
        (await host.AddAsync("erin", "p-0001", 1)).StatusCode.Should().Be(HttpStatusCode.OK);
        Lines(await host.GetAsync("erin")).Should().Equal(("p-0001", 3), ("p-0002", 3));
    }

    [Fact]
    public async Task Signing_in_merges_the_anonymous_basket_once_and_clears_it()
    {
        await using var host = await BasketHost.StartAsync();
        using var http = host.Client();
        await host.AddAsync("frank", "p-0001", 1);
        await host.AddAsync("anon-42", "p-0001", 2);
        await host.AddAsync("anon-42", "p-0005", 4);

        var merged = await http.PostAsync(BasketHost.Route("frank/merge/anon-42"), null);

        merged.StatusCode.Should().Be(HttpStatusCode.OK);
        Lines((await merged.Content.ReadFromJsonAsync<BasketDto>())!).Should().Equal(("p-0001", 3), ("p-0005", 4));
        (await host.GetAsync("anon-42")).Items.Should().BeEmpty();

        // Merging again (a retried sign-in) has nothing left to add.
        (await http.PostAsync(BasketHost.Route("frank/merge/anon-42"), null)).StatusCode.Should().Be(HttpStatusCode.OK);
        Lines(await host.GetAsync("frank")).Should().Equal(("p-0001", 3), ("p-0005", 4));

        await ShouldNameField(await http.PostAsync(BasketHost.Route("frank/merge/frank"), null), HttpStatusCode.BadRequest, "anonymousShopperId");
    }

    [Fact]
    public async Task A_confirmed_order_takes_what_it_bought_out_of_the_basket_once_however_often_its_event_comes()
    {
        await using var host = await BasketHost.StartAsync();
        await host.AddAsync("hal", "p-0001", 3);
        await host.AddAsync("hal", "p-0002", 1);
        await host.AddAsync("hal", "p-0003", 1); // added after checking out: not part of the order
        var confirmed = new OrderConfirmed("order-hal-1", "hal", "hal@example.com",
            [new OrderLine("p-0001", "One", 2, new Money(100, "EUR")), new OrderLine("p-0002", "Two", 1, new Money(100, "EUR"))],
            new Money(300, "EUR"), DateTimeOffset.UtcNow);
        using var sidecar = host.Client();

        // Published as the ordering service does, with a CloudEvent id derived from the order; then delivered again.
        for (var i = 0; i < 2; i++)
        {
            (await sidecar.PostAsJsonAsync($"/v1.0/publish/{Components.PubSub}/{Topics.OrderConfirmed}?metadata.cloudevent.id=order-hal-1:Confirmed", confirmed))
                .StatusCode.Should().Be(HttpStatusCode.NoContent);
        }

        await Eventually.HoldsAsync(async () => Lines(await host.GetAsync("hal")).SequenceEqual([("p-0001", 1), ("p-0003", 1)]), TimeSpan.FromSeconds(20), "the bought lines are taken out");
        await Task.Delay(TimeSpan.FromSeconds(1));
        Lines(await host.GetAsync("hal")).Should().Equal([("p-0001", 1), ("p-0003", 1)], "the second delivery of the same event changes nothing");
    }

    [Fact]
    public async Task An_abandoned_basket_is_cleared_by_its_reminder()
    {
        await using var host = await BasketHost.StartAsync(environment: new Dictionary<string, string> { ["Basket__AbandonedAfter"] = "00:00:03" });
        await host.AddAsync("gina", "p-0001", 2);
        (await host.GetAsync("gina")).Items.Should().NotBeEmpty();

        BasketDto? seen = null;
        await Eventually.HoldsAsync(() =>
        {
            seen = host.GetAsync("gina").GetAwaiter().GetResult();
            return seen.Items.Count == 0;
        }, TimeSpan.FromSeconds(30), "the abandoned-basket reminder should clear the basket");

        // The shopper can fill the basket again afterwards.
        (await host.AddAsync("gina", "p-0002", 1)).StatusCode.Should().Be(HttpStatusCode.OK);
        Lines(await host.GetAsync("gina")).Should().Equal(("p-0002", 1));
    }

    [Fact]
    public async Task A_basket_changed_again_is_kept_for_the_whole_period_after_its_last_change()
    {
        var abandonedAfter = TimeSpan.FromSeconds(8);
        await using var host = await BasketHost.StartAsync(environment: new Dictionary<string, string> { ["Basket__AbandonedAfter"] = "00:00:08" });
        await host.AddAsync("ivan", "p-0001", 1);
        await Task.Delay(TimeSpan.FromSeconds(4));
        var lastChange = DateTimeOffset.UtcNow;
        await host.AddAsync("ivan", "p-0002", 1);

        // The reminder armed by the first change fires 8 s after it, finds the basket changed since, and waits for
        // the rest: the basket is still there 2 s after that first due time, 2 s before its own.
        await Task.Delay(lastChange + abandonedAfter - TimeSpan.FromSeconds(2) - DateTimeOffset.UtcNow);
        Lines(await host.GetAsync("ivan")).Should().Equal(("p-0001", 1), ("p-0002", 1));

        await Eventually.HoldsAsync(() => host.GetAsync("ivan").GetAwaiter().GetResult().Items.Count == 0,
            TimeSpan.FromSeconds(30), "8 s after its last change the basket is abandoned and cleared");
        (DateTimeOffset.UtcNow - lastChange).Should().BeGreaterThan(abandonedAfter - TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public async Task The_basket_actor_answers_plain_json_on_daprs_actor_api_as_any_client_would_call_it()
    {
        await using var host = await BasketHost.StartAsync();
        using var http = host.Client();
        await host.AddAsync("hana", "p-0001", 2);

        // No remoting header, one JSON argument: what the service's own calls send, and what curl or a client in
        // another language can send.
        var added = await http.PostAsJsonAsync("/v1.0/actors/Basket/hana/method/AddAsync", new { productId = "p-0002", quantity = 3 });
        added.StatusCode.Should().Be(HttpStatusCode.OK);
        using (var outcome = JsonDocument.Parse(await added.Content.ReadAsStringAsync()))
        {
            outcome.RootElement.GetProperty("basket").GetProperty("items").GetArrayLength().Should().Be(2);
        }
        var read = await http.PostAsync("/v1.0/actors/Basket/hana/method/GetAsync", null);
        var basket = await read.Content.ReadFromJsonAsync<BasketDto>();

        Lines(basket!).Should().Equal(("p-0001", 2), ("p-0002", 3));
        Lines(await host.GetAsync("hana")).Should().Equal(("p-0001", 2), ("p-0002", 3));
    }

    [Fact]
    public async Task The_service_describes_its_public_api_with_openapi()
    {
        await using var host = await BasketHost.StartAsync(withCatalog: false);
        using var http = host.Service.CreateHttpClient();

        using var doc = JsonDocument.Parse(await http.GetStringAsync("/openapi/v1.json"));

        var paths = doc.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        paths.Should().Contain(["/api/v1/baskets/{shopperId}", "/api/v1/baskets/{shopperId}/items", "/api/v1/baskets/{shopperId}/items/{productId}", "/api/v1/baskets/{shopperId}/merge/{anonymousShopperId}"]);
    }

    private static async Task ShouldNameField(HttpResponseMessage response, HttpStatusCode status, string field)
    {
        response.StatusCode.Should().Be(status);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        problem.RootElement.GetProperty("errors").TryGetProperty(field, out _).Should().BeTrue($"the problem should name {field}: {problem.RootElement}");
    }
}
