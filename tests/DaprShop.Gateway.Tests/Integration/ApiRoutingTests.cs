using System.Net;
using System.Net.Http.Json;
using System.Text;
using FluentAssertions;

namespace DaprShop.Gateway.Tests.Integration;

/// <summary>The public API reaches the app that owns each route, through the gateway's sidecar (Dapr service invocation).</summary>
[Collection(EdgeCollection.Name)]
public sealed class ApiRoutingTests(Edge edge)
{
    [Theory]
    [InlineData("GET", "/api/v1/catalog/categories", "catalog")]
    [InlineData("GET", "/api/v1/baskets/ada", "basket")]
    [InlineData("GET", "/api/v1/baskets/ada.lovelace", "basket")]
    [InlineData("DELETE", "/api/v1/baskets/ada/items/p-0001", "basket")]
    [InlineData("GET", "/api/v1/inventory/p-0001", "inventory")]
    [InlineData("POST", "/api/v1/orders", "ordering")]
    [InlineData("POST", "/api/v1/orders/o-1/cancel", "ordering")]
    [InlineData("GET", "/api/v1/shoppers/ada/orders", "ordering")]
    [InlineData("POST", "/api/v1/payments/webhook", "ordering")]
    public async Task Each_api_route_reaches_the_app_that_owns_it(string method, string path, string app)
    {
        using var http = edge.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method != "GET" && method != "DELETE")
        {
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        }

        using var response = await http.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var answer = await response.Content.ReadFromJsonAsync<StandInAnswer>();
        answer.Should().Be(new StandInAnswer(app, method, path, ""));
    }

    [Fact]
    public async Task A_call_keeps_its_method_path_query_body_and_headers_and_arrives_as_an_invocation_from_the_gateway()
    {
        using var http = edge.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/baskets/grace/items/p-0042?quantity=3&note=two%20words")
        {
            Content = new StringContent("""{"quantity":3}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", "put-grace-42");
        request.Headers.Add("X-Shop-Test", "kept");

        using var response = await http.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var received = edge.Basket.RequestsTo("/api/v1/baskets/grace/items/p-0042").Should().ContainSingle().Subject;
        received.Method.Should().Be("PUT");
        received.Query.Should().Be("?quantity=3&note=two%20words");
        received.BodyText.Should().Be("""{"quantity":3}""");
        received.ContentType.Should().Be("application/json; charset=utf-8");
        received.Headers["idempotency-key"].Should().Be("put-grace-42");
        received.Headers["x-shop-test"].Should().Be("kept");
        received.Headers["dapr-caller-app-id"].Should().Be("gateway", "the call came through Dapr, from the gateway's sidecar");
    }

    [Fact]
    public async Task Clients_cannot_choose_the_target_app_nor_pass_a_dapr_api_token_to_it()
    {
        using var http = edge.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/inventory/p-0007?probe=app-id");
        request.Headers.Add("dapr-app-id", "catalog");
        request.Headers.Add("dapr-api-token", "client-chosen-token");

        using var response = await http.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadFromJsonAsync<StandInAnswer>())!.App.Should().Be("inventory");
        edge.Catalog.RequestsTo("/api/v1/inventory/p-0007").Should().BeEmpty();
        var received = edge.Inventory.RequestsTo("/api/v1/inventory/p-0007").Should().ContainSingle().Subject;
        received.Headers.Keys.Should().NotContain(["dapr-api-token", "dapr-app-id"]);
        response.Headers.Select(h => h.Key).Concat(response.Content.Headers.Select(h => h.Key))
            .Should().NotContain(name => name.StartsWith("dapr-", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task The_gateway_presents_its_sidecars_api_token_which_the_sidecar_demands()
    {
        using var direct = new HttpClient { BaseAddress = edge.Gateway.Sidecar.HttpEndpoint };
        using var withoutToken = new HttpRequestMessage(HttpMethod.Get, "/api/v1/catalog/categories");
        withoutToken.Headers.Add("dapr-app-id", "catalog");
        (await direct.SendAsync(withoutToken)).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "the gateway's sidecar refuses calls without its token");

        using var http = edge.CreateClient();
        (await http.GetAsync("/api/v1/catalog/categories?through=gateway")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_services_openapi_document_is_published_under_its_name()
    {
        using var http = edge.CreateClient();

        using var response = await http.GetAsync("/openapi/catalog/v1.json");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Contain("catalog stand-in");
        edge.Catalog.RequestsTo("/openapi/v1.json").Should().NotBeEmpty();
    }

    [Fact]
    public async Task The_apps_own_errors_pass_through_untouched()
    {
        using var http = edge.CreateClient();

        using var notFound = await http.GetAsync("/api/v1/catalog/products/missing");
        using var broken = await http.GetAsync("/api/v1/catalog/broken");

        notFound.StatusCode.Should().Be(HttpStatusCode.NotFound);
        notFound.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        (await notFound.Content.ReadAsStringAsync()).Should().Contain("No product missing.");
        broken.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await broken.Content.ReadAsStringAsync()).Should().Be("""{"error":"the catalog's own failure"}""");
    }

    [Fact]
    public async Task An_api_path_that_no_route_owns_is_a_404_problem_and_reaches_nobody()
    {
        using var http = edge.CreateClient();

        using var response = await http.GetAsync("/api/v1/payments/p-1");
        using var internalRoute = await http.PostAsync("/internal/catalog/prices", new StringContent("{}", Encoding.UTF8, "application/json"));

        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        edge.Storefront.Requests.Select(r => r.Path).Should().NotContain("/api/v1/payments/p-1");
        edge.Ordering.Requests.Select(r => r.Path).Should().NotContain("/api/v1/payments/p-1");
        internalRoute.StatusCode.Should().Be(HttpStatusCode.NotFound, "the services' /internal routes are not on the edge (the storefront has no such page)");
        edge.Catalog.Requests.Select(r => r.Path).Should().NotContain("/internal/catalog/prices");
    }

    [Fact]
    public async Task Health_endpoints_are_the_gateways_own_and_never_proxied()
    {
        using var http = edge.CreateClient();

        (await http.GetStringAsync("/health")).Should().Be("Healthy");
        (await http.GetStringAsync("/alive")).Should().Be("Healthy");
        (await http.GetAsync("/dapr/config")).StatusCode.Should().Be(HttpStatusCode.NotFound);

        edge.Storefront.Requests.Select(r => r.Path).Should().NotContain(["/health", "/alive", "/dapr/config"]);
    }
}
