using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using DaprShop.Catalog.Search;
using DaprShop.Contracts;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DaprShop.Catalog.Tests.Integration;

/// <summary>
/// The catalog through real sidecars. Tests share one catalog (seeding 500 products is the slow part), so each one
/// edits its own products and no test relies on another's changes.
/// </summary>
public sealed class CatalogServiceTests(CatalogFixture fixture) : IClassFixture<CatalogFixture>
{
    private readonly HttpClient _dapr = fixture.ThroughDapr();

    private async Task<CatalogPage> ListAsync(string query)
    {
        var response = await _dapr.GetAsync("api/v1/catalog/products?" + query);
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<CatalogPage>())!;
    }

    private async Task<ProductDto> GetAsync(string id)
    {
        var response = await _dapr.GetAsync($"api/v1/catalog/products/{id}");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return (await response.Content.ReadFromJsonAsync<ProductDto>())!;
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, string because)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("timed out: " + because);
            }
            await Task.Delay(50);
        }
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
    }

    [Fact]
    public async Task Paging_through_another_sidecar_visits_every_seeded_product_once()
    {
        var first = await ListAsync("pageSize=100&sort=name");
        first.TotalCount.Should().BeGreaterThanOrEqualTo(500);
        first.TotalPages.Should().Be((first.TotalCount + 99) / 100);

        var ids = new List<string>(first.Items.Select(i => i.ProductId));
        for (var page = 2; page <= first.TotalPages; page++)
        {
            ids.AddRange((await ListAsync($"pageSize=100&sort=name&page={page}")).Items.Select(i => i.ProductId));
        }
        ids.Should().OnlyHaveUniqueItems().And.HaveCount(first.TotalCount);
        ids.Should().Contain(Enumerable.Range(1, 500).Select(i => $"p-{i:0000}"));
    }

    [Fact]
    public async Task Filters_and_sorting_apply_through_the_sidecar()
    {
        var laptops = await ListAsync("category=Laptops&sort=price&pageSize=100");
        laptops.TotalCount.Should().BeInRange(41, 42);
        laptops.Items.Should().OnlyContain(p => p.Category == "Laptops");
        laptops.Items.Select(p => p.Price.Amount).Should().BeInAscendingOrder();

        var range = await ListAsync("minPrice=10000&maxPrice=20000&sort=-price&pageSize=100");
        range.TotalCount.Should().BePositive();
        range.Items.Should().OnlyContain(p => p.Price.Amount >= 10_000 && p.Price.Amount <= 20_000);
        range.Items.Select(p => p.Price.Amount).Should().BeInDescendingOrder();

        var brand = await ListAsync("brand=ironleaf&pageSize=100");
        brand.Items.Should().OnlyContain(p => p.Brand == "Ironleaf");
        brand.Items.Select(p => p.Category).Distinct().Should().BeEquivalentTo("Kitchen", "Garden");
    }

    [Fact]
    public async Task Full_text_search_ranks_the_best_matches_first()
    {
        var result = await ListAsync("q=sonora%20headphones");

        result.TotalCount.Should().BePositive();
        result.Items.Should().OnlyContain(p => p.Brand == "Sonora");
        result.Items[0].Name.Should().Contain("Headphones");
        (await ListAsync("q=no-such-thing-anywhere")).TotalCount.Should().Be(0);
    }

    [Fact]
    public async Task A_product_is_served_with_its_etag_and_an_unknown_one_is_404()
    {
        var response = await _dapr.GetAsync("api/v1/catalog/products/p-0042");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Headers.GetValues("ETag").Should().ContainSingle().Which.Should().MatchRegex("^\"[0-9]+\"$");
        var product = (await response.Content.ReadFromJsonAsync<ProductDto>())!;
        product.ProductId.Should().Be("p-0042");
        product.Price.Currency.Should().Be("EUR");
        product.Attributes.Should().ContainKey("color");
        product.PictureUrl.Should().Be("/api/v1/catalog/products/p-0042/picture");

        (await _dapr.GetAsync("api/v1/catalog/products/p-9999")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_repeated_read_comes_from_the_replicas_memory_until_it_expires_then_from_the_shared_cache()
    {
        var original = await GetAsync("p-0150");
        // Another copy in the shared cache component (as a stale read by another replica could leave there), same version.
        using var sidecar = fixture.Catalog.Sidecar.CreateHttpClient();
        var shared = JsonNode.Parse(await sidecar.GetStringAsync("/v1.0/state/cache/product:p-0150"))!;
        shared["name"] = "Planted in the shared cache";
        (await sidecar.PostAsJsonAsync("/v1.0/state/cache", new[] { new { key = "product:p-0150", value = shared } })).EnsureSuccessStatusCode();

        (await GetAsync("p-0150")).Name.Should().Be(original.Name, "the replica's own copy answers within its lifetime");

        await UntilAsync(async () => (await GetAsync("p-0150")).Name == "Planted in the shared cache",
            $"after {CatalogFixture.NearCacheSeconds} s the replica's copy expires and the shared cache answers");
    }

    [Fact]
    public async Task The_picture_is_an_svg_with_cache_headers()
    {
        var response = await _dapr.GetAsync("api/v1/catalog/products/p-0007/picture");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("image/svg+xml");
        response.Headers.CacheControl!.Public.Should().BeTrue();
        response.Headers.CacheControl.MaxAge.Should().BePositive();
        (await response.Content.ReadAsStringAsync()).Should().StartWith("<svg");
        (await _dapr.GetAsync("api/v1/catalog/products/p-9999/picture")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Categories_and_brands_are_listed()
    {
        var categories = (await _dapr.GetFromJsonAsync<List<Facet>>("api/v1/catalog/categories"))!;
        categories.Select(c => c.Name).Should().Contain(["Headphones", "Laptops", "Books", "Beauty"]);
        categories.Where(c => c.Name == "Books").Should().ContainSingle().Which.ProductCount.Should().BeGreaterThan(40);

        (await _dapr.GetFromJsonAsync<List<Facet>>("api/v1/catalog/brands"))!.Select(b => b.Name).Should().Contain("Sonora");
    }

    [Fact]
    public async Task A_price_change_is_published_and_the_next_reads_see_it()
    {
        var before = await GetAsync("p-0101");
        var listed = await ListAsync("q=" + Uri.EscapeDataString(before.Name) + "&pageSize=5");
        listed.Items[0].ProductId.Should().Be("p-0101");
        var newPrice = before.Price.Amount + 1_000;

        var change = await _dapr.PutAsJsonAsync("api/v1/catalog/products/p-0101/price", new { amount = newPrice, currency = "EUR" });

        change.StatusCode.Should().Be(HttpStatusCode.OK, await change.Content.ReadAsStringAsync());
        await Eventually.HoldsAsync(() => fixture.PriceChanges.Any(e => e.GetProperty("productId").GetString() == "p-0101"), "ordering receives ProductPriceChanged");
        var published = fixture.PriceChanges.First(e => e.GetProperty("productId").GetString() == "p-0101");
        published.GetProperty("oldPrice").GetProperty("amount").GetInt64().Should().Be(before.Price.Amount);
        published.GetProperty("newPrice").GetProperty("amount").GetInt64().Should().Be(newPrice);

        (await GetAsync("p-0101")).Price.Amount.Should().Be(newPrice, "the cached product was evicted");
        (await ListAsync("q=" + Uri.EscapeDataString(before.Name) + "&pageSize=5")).Items[0].Price.Amount.Should().Be(newPrice, "listing pages are keyed by the catalog version");
    }

    [Fact]
    public async Task A_price_change_is_announced_by_the_outbox_of_its_own_transaction_typed_for_routing()
    {
        var before = await GetAsync("p-0377");

        var change = await _dapr.PutAsJsonAsync("api/v1/catalog/products/p-0377/price", new { amount = before.Price.Amount + 500, currency = "EUR" });

        change.StatusCode.Should().Be(HttpStatusCode.OK, await change.Content.ReadAsStringAsync());
        await Eventually.HoldsAsync(() => fixture.PriceChangeEvents.Any(e => e.GetProperty("data").GetProperty("productId").GetString() == "p-0377"), "ordering receives the price change");
        var cloudEvent = fixture.PriceChangeEvents.First(e => e.GetProperty("data").GetProperty("productId").GetString() == "p-0377");
        cloudEvent.GetProperty("type").GetString().Should().Be(CatalogEventTypes.PriceChanged, "the outbox types each event with outbox.cloudevent.type");
        cloudEvent.GetProperty("topic").GetString().Should().Be(Topics.CatalogEvents);
        cloudEvent.GetProperty("source").GetString().Should().Be(AppIds.Catalog);
        cloudEvent.GetProperty("data").GetProperty("newPrice").GetProperty("amount").GetInt64().Should().Be(before.Price.Amount + 500, "the projection, not the stored document, is published");
        // The same transaction also announced the catalog's new version, which ordering's routing rule leaves out.
        fixture.PriceChangeEvents.Should().OnlyContain(e => e.GetProperty("type").GetString() == CatalogEventTypes.PriceChanged);
    }

    [Fact]
    public async Task A_change_whose_event_cannot_be_published_at_first_is_still_announced_later_with_the_same_id()
    {
        // A subscriber (app "audit") whose sidecar refuses the first two hand-offs, so the catalog's publish fails
        // after the commit. It joins the mesh as any sidecar does: a file naming its address and subscriptions.
        var attempts = 0;
        var accepted = new System.Collections.Concurrent.ConcurrentQueue<JsonElement>();
        await using var audit = await TestApp.StartAsync(app => app.MapPost("/_daprshop/mesh/pubsub/{pubsub}", async (HttpRequest request) =>
        {
            if (Interlocked.Increment(ref attempts) <= 2)
            {
                return Results.StatusCode(503);
            }
            using var message = await JsonDocument.ParseAsync(request.Body);
            using var cloudEvent = JsonDocument.Parse(message.RootElement.GetProperty("data").GetBytesFromBase64());
            accepted.Enqueue(cloudEvent.RootElement.Clone());
            return Results.Ok();
        }));
        var registration = Path.Combine(fixture.Mesh.Directory, "audit~outbox-test.json");
        await File.WriteAllTextAsync(registration, JsonSerializer.Serialize(new
        {
            appId = "audit", @namespace = "", instanceId = "outbox-test", pid = Environment.ProcessId, address = "127.0.0.1",
            httpPort = audit.Port, grpcPort = 0, token = "t", subscriptions = new[] { $"{Components.PubSub}/{Topics.CatalogEvents}" },
            actorTypes = Array.Empty<string>(), startedAt = DateTimeOffset.UtcNow,
        }));
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(1)); // the sidecars re-read the mesh folder every 500 ms
            var before = await GetAsync("p-0288");

            var change = await _dapr.PutAsJsonAsync("api/v1/catalog/products/p-0288/price", new { amount = before.Price.Amount + 700, currency = "EUR" });

            change.StatusCode.Should().Be(HttpStatusCode.OK, "the change is committed whatever the broker says");
            (await GetAsync("p-0288")).Price.Amount.Should().Be(before.Price.Amount + 700);
            await Eventually.HoldsAsync(
                () => accepted.Any(e => e.GetProperty("type").GetString() == CatalogEventTypes.PriceChanged && e.GetProperty("data").GetProperty("productId").GetString() == "p-0288"),
                TimeSpan.FromSeconds(30), "the outbox retries the event until it is taken");
            attempts.Should().BeGreaterThan(2, "the first hand-offs failed");
            var announced = accepted.First(e => e.GetProperty("type").GetString() == CatalogEventTypes.PriceChanged && e.GetProperty("data").GetProperty("productId").GetString() == "p-0288");
            await Eventually.HoldsAsync(
                () => fixture.PriceChangeEvents.Any(e => e.GetProperty("id").GetString() == announced.GetProperty("id").GetString()),
                "ordering got the same event, under the same CloudEvent id, so a redelivery is recognised as one");
        }
        finally
        {
            File.Delete(registration);
        }
    }

    [Fact]
    public async Task The_internal_price_query_answers_current_prices_and_leaves_out_unknown_products()
    {
        await _dapr.PutAsJsonAsync("api/v1/catalog/products/p-0102/price", new { amount = 12_345, currency = "EUR" });

        var response = await _dapr.PostAsJsonAsync("internal/catalog/prices", new PriceQuery(["p-0102", "p-0103", "p-9999"]));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var answer = (await response.Content.ReadFromJsonAsync<PriceAnswer>())!;
        answer.Prices.Keys.Should().BeEquivalentTo("p-0102", "p-0103");
        answer.Prices["p-0102"].Price.Should().Be(new Money(12_345, "EUR"));
        answer.Prices["p-0103"].Price.Should().Be((await GetAsync("p-0103")).Price);
    }

    [Fact]
    public async Task Validation_errors_name_the_field_and_change_nothing()
    {
        var before = await GetAsync("p-0104");

        var price = await ProblemAsync(await _dapr.PutAsJsonAsync("api/v1/catalog/products/p-0104/price", new { amount = 0, currency = "EUR" }));
        price.TryGetProperty("amount", out _).Should().BeTrue();
        var product = await ProblemAsync(await _dapr.PostAsJsonAsync("api/v1/catalog/products", new { name = "", category = "Kitchen", brand = "Brio", price = new { amount = 100, currency = "USD" } }));
        product.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo("name", "price.currency");
        var listing = await ProblemAsync(await _dapr.GetAsync("api/v1/catalog/products?pageSize=1000"));
        listing.EnumerateObject().Select(p => p.Name).Should().Equal("pageSize");

        (await GetAsync("p-0104")).Price.Should().Be(before.Price);
    }

    [Fact]
    public async Task A_stale_if_match_is_refused_so_a_concurrent_edit_is_not_lost()
    {
        var response = await _dapr.GetAsync("api/v1/catalog/products/p-0105");
        var etag = response.Headers.GetValues("ETag").Single();

        var first = new HttpRequestMessage(HttpMethod.Put, "api/v1/catalog/products/p-0105/price") { Content = JsonContent.Create(new { amount = 5_000, currency = "EUR" }) };
        first.Headers.TryAddWithoutValidation("If-Match", etag);
        var second = new HttpRequestMessage(HttpMethod.Put, "api/v1/catalog/products/p-0105/price") { Content = JsonContent.Create(new { amount = 6_000, currency = "EUR" }) };
        second.Headers.TryAddWithoutValidation("If-Match", etag);
        var answers = await Task.WhenAll(_dapr.SendAsync(first), _dapr.SendAsync(second));

        answers.Select(a => a.StatusCode).Should().BeEquivalentTo([HttpStatusCode.OK, HttpStatusCode.PreconditionFailed]);
        var winner = answers[0].StatusCode == HttpStatusCode.OK ? 5_000 : 6_000;
        (await GetAsync("p-0105")).Price.Amount.Should().Be(winner);
    }

    [Fact]
    public async Task A_created_product_is_listed_and_a_deleted_one_is_gone_everywhere()
    {
        var create = await _dapr.PostAsJsonAsync("api/v1/catalog/products", new
        {
            name = "Zephyr Test Gizmo",
            description = "made by a test",
            category = "Test Gadgets",
            brand = "Testbrand",
            price = new { amount = 4_242, currency = "EUR" },
            attributes = new Dictionary<string, string> { ["color"] = "teal" },
        });
        create.StatusCode.Should().Be(HttpStatusCode.Created, await create.Content.ReadAsStringAsync());
        var created = (await create.Content.ReadFromJsonAsync<ProductDto>())!;
        created.ProductId.Should().MatchRegex("^p-[0-9]{4}$").And.NotBe("p-0001");
        (await ListAsync("q=zephyr")).Items.Select(p => p.ProductId).Should().Equal(created.ProductId);
        (await GetAsync(created.ProductId)).Name.Should().Be("Zephyr Test Gizmo");

        (await _dapr.DeleteAsync($"api/v1/catalog/products/{created.ProductId}")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        (await _dapr.GetAsync($"api/v1/catalog/products/{created.ProductId}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await ListAsync("q=zephyr")).TotalCount.Should().Be(0);
        var prices = (await (await _dapr.PostAsJsonAsync("internal/catalog/prices", new PriceQuery([created.ProductId]))).Content.ReadFromJsonAsync<PriceAnswer>())!;
        prices.Prices.Should().BeEmpty();
        (await _dapr.DeleteAsync($"api/v1/catalog/products/{created.ProductId}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Inventory_events_set_availability_once_per_event()
    {
        using var dapr = fixture.Storefront.CreateClient();
        var at = DateTimeOffset.UtcNow;
        var metadata = new Dictionary<string, string> { ["cloudevent.id"] = "low-stock-p-0106" };

        await dapr.PublishEventAsync(Components.PubSub, Topics.StockLow, new StockLow("p-0106", 0, 5, at), metadata);
        await UntilAsync(async () => !(await GetAsync("p-0106")).Available, "low stock of 0 makes the product unavailable");
        var category = (await GetAsync("p-0106")).Category;
        await UntilAsync(async () => (await ListAsync("inStock=true&pageSize=100&category=" + category)).Items.All(p => p.ProductId != "p-0106"),
            "the in-stock listing leaves it out once the snapshot has reloaded");
        (await ListAsync("inStock=false&pageSize=100&category=" + category)).Items.Should().Contain(p => p.ProductId == "p-0106");

        var etagAfterFirst = (await _dapr.GetAsync("api/v1/catalog/products/p-0106")).Headers.GetValues("ETag").Single();
        await dapr.PublishEventAsync(Components.PubSub, Topics.StockLow, new StockLow("p-0106", 0, 5, at.AddSeconds(1)), metadata);
        await dapr.PublishEventAsync(Components.PubSub, Topics.StockRestocked, new StockRestocked("p-0106", 10, 10, at.AddSeconds(2)));
        await UntilAsync(async () => (await GetAsync("p-0106")).Available, "a restock makes it available again");
        var etagAfterRestock = (await _dapr.GetAsync("api/v1/catalog/products/p-0106")).Headers.GetValues("ETag").Single();
        long.Parse(etagAfterRestock.Trim('"'), System.Globalization.CultureInfo.InvariantCulture)
            .Should().Be(long.Parse(etagAfterFirst.Trim('"'), System.Globalization.CultureInfo.InvariantCulture) + 1, "the duplicate low-stock event changed nothing");
    }

    [Fact]
    public async Task The_openapi_document_lists_the_public_routes()
    {
        var document = await fixture.Catalog.CreateHttpClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        paths.Should().Contain(["/api/v1/catalog/products", "/api/v1/catalog/products/{productId}", "/api/v1/catalog/products/{productId}/price",
            "/api/v1/catalog/categories", "/api/v1/catalog/brands", "/api/v1/catalog/products/{productId}/picture"]);
        document.GetProperty("paths").GetProperty("/api/v1/catalog/products").TryGetProperty("post", out _).Should().BeTrue();
    }

    [Fact]
    public async Task Edits_survive_a_restart_of_the_service_and_seeding_does_not_repeat()
    {
        (await _dapr.PutAsJsonAsync("api/v1/catalog/products/p-0107/price", new { amount = 77_700, currency = "EUR" })).StatusCode.Should().Be(HttpStatusCode.OK);
        var countBefore = (await ListAsync("pageSize=1")).TotalCount;

        await fixture.Catalog.RestartServiceAsync();

        (await GetAsync("p-0107")).Price.Amount.Should().Be(77_700);
        var prices = (await (await _dapr.PostAsJsonAsync("internal/catalog/prices", new PriceQuery(["p-0107"]))).Content.ReadFromJsonAsync<PriceAnswer>())!;
        prices.Prices["p-0107"].Price.Amount.Should().Be(77_700, "the state store, not the cache, kept the edit");
        (await ListAsync("pageSize=1")).TotalCount.Should().Be(countBefore);
    }
}
