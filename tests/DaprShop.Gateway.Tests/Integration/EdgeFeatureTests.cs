using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;

namespace DaprShop.Gateway.Tests.Integration;

/// <summary>What the gateway adds at the edge: output caching, compression, cache lifetimes and fast failure.</summary>
[Collection(EdgeCollection.Name)]
public sealed class EdgeFeatureTests(Edge edge)
{
    private int CatalogListings(string query) =>
        edge.Catalog.RequestsTo("/api/v1/catalog/products").Count(r => r.Query == query);

    [Fact]
    public async Task An_anonymous_catalog_read_is_served_from_the_output_cache_the_second_time_per_query()
    {
        using var http = edge.CreateClient();
        var query = $"?q=lamp&page={Guid.NewGuid():N}";

        var first = await http.GetStringAsync("/api/v1/catalog/products" + query);
        var second = await http.GetStringAsync("/api/v1/catalog/products" + query);
        await http.GetStringAsync("/api/v1/catalog/products" + query + "&sort=price");

        second.Should().Be(first);
        CatalogListings(query).Should().Be(1, "the second read came from the gateway's cache");
        CatalogListings(query + "&sort=price").Should().Be(1, "another query is another cache entry");
    }

    [Fact]
    public async Task A_catalog_read_with_authorization_or_an_auth_cookie_always_reaches_the_catalog()
    {
        using var http = edge.CreateClient();
        var query = $"?page={Guid.NewGuid():N}";
        await http.GetStringAsync("/api/v1/catalog/products" + query);

        for (var i = 0; i < 2; i++)
        {
            using var withToken = new HttpRequestMessage(HttpMethod.Get, "/api/v1/catalog/products" + query);
            withToken.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "a-shopper");
            (await http.SendAsync(withToken)).StatusCode.Should().Be(HttpStatusCode.OK);
            using var withCookie = new HttpRequestMessage(HttpMethod.Get, "/api/v1/catalog/products" + query);
            withCookie.Headers.Add("Cookie", "theme=dark; .AspNetCore.Identity.Application=signed-in");
            (await http.SendAsync(withCookie)).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        CatalogListings(query).Should().Be(5, "one anonymous read to fill the cache, then four signed-in reads that bypass it");
    }

    [Fact]
    public async Task A_catalog_write_through_the_gateway_clears_the_cached_reads()
    {
        using var http = edge.CreateClient();
        var query = $"?page={Guid.NewGuid():N}";
        await http.GetStringAsync("/api/v1/catalog/products" + query);
        await http.GetStringAsync("/api/v1/catalog/products" + query);
        CatalogListings(query).Should().Be(1);

        (await http.PutAsJsonAsync("/api/v1/catalog/products/p-0001/price", new { amount = 1999, currency = "EUR" })).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await http.GetStringAsync("/api/v1/catalog/products" + query);

        CatalogListings(query).Should().Be(2);
    }

    [Theory]
    [InlineData("br")]
    [InlineData("gzip")]
    public async Task Api_json_is_compressed_when_the_client_accepts_it(string encoding)
    {
        using var http = edge.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/catalog/products?compressed={encoding}-{Guid.NewGuid():N}");
        request.Headers.AcceptEncoding.ParseAdd(encoding);

        using var response = await http.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentEncoding.Should().Equal(encoding);
        var compressed = await response.Content.ReadAsByteArrayAsync();
        await using var decompressing = encoding == "br"
            ? (Stream)new BrotliStream(new MemoryStream(compressed), CompressionMode.Decompress)
            : new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var json = await JsonDocument.ParseAsync(decompressing);
        json.RootElement.GetProperty("items").GetArrayLength().Should().Be(50);
        compressed.Length.Should().BeLessThan(json.RootElement.GetRawText().Length / 2);
    }

    [Fact]
    public async Task Nothing_is_compressed_for_a_client_that_did_not_ask()
    {
        using var http = edge.CreateClient();

        using var response = await http.GetAsync($"/api/v1/catalog/products?plain={Guid.NewGuid():N}");

        response.Content.Headers.ContentEncoding.Should().BeEmpty();
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").GetArrayLength().Should().Be(50);
    }

    [Fact]
    public async Task Product_pictures_get_a_public_cache_lifetime_unless_the_catalog_set_one()
    {
        using var http = edge.CreateClient();

        using var picture = await http.GetAsync("/api/v1/catalog/products/p-0003/picture");
        using var ownLifetime = await http.GetAsync("/api/v1/catalog/products/own-lifetime/picture");
        using var listing = await http.GetAsync($"/api/v1/catalog/products?lifetime={Guid.NewGuid():N}");

        picture.StatusCode.Should().Be(HttpStatusCode.OK);
        picture.Headers.CacheControl!.ToString().Should().Be("public, max-age=86400");
        ownLifetime.Headers.CacheControl!.ToString().Should().Be("public, max-age=60");
        listing.Headers.CacheControl.Should().BeNull("API answers are not static assets");
    }

    [Fact]
    public async Task Storefront_static_files_get_a_public_cache_lifetime_unless_the_storefront_set_one()
    {
        using var http = edge.CreateClient();

        using var script = await http.GetAsync("/_framework/blazor.web.js");
        using var styles = await http.GetAsync("/css/site.css");
        using var page = await http.GetAsync("/");

        script.Headers.CacheControl!.ToString().Should().Be("public, max-age=3600");
        styles.Headers.CacheControl!.ToString().Should().Be("no-cache");
        page.Headers.CacheControl.Should().BeNull("pages are not static assets");
    }

    [Fact]
    public async Task A_hung_backend_answers_504_problem_details_within_the_configured_timeout()
    {
        using var http = edge.CreateClient();
        var clock = Stopwatch.StartNew();

        using var response = await http.GetAsync("/api/v1/catalog/hang");

        clock.Stop();
        response.StatusCode.Should().Be(HttpStatusCode.GatewayTimeout);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        problem.GetProperty("status").GetInt32().Should().Be(504);
        problem.GetProperty("detail").GetString().Should().Be("The catalog service did not answer in time.");
        clock.Elapsed.Should().BeGreaterThan(TimeSpan.FromSeconds(Edge.ApiTimeoutSeconds) - TimeSpan.FromMilliseconds(200))
            .And.BeLessThan(TimeSpan.FromSeconds(Edge.ApiTimeoutSeconds + 5));
    }
}
