using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;

namespace DaprShop.Gateway.Tests.Integration;

/// <summary>Clean answers when nothing is behind the gateway, and the per-client rate limit.</summary>
public sealed class FailureAndLimitTests(LoneGateway lone) : IClassFixture<LoneGateway>
{
    private static async Task<JsonElement> ProblemOf(HttpResponseMessage response)
    {
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task An_app_that_is_not_running_answers_503_problem_details_without_daprs_internals()
    {
        using var http = lone.CreateClient("198.51.100.10");

        using var response = await http.GetAsync("/api/v1/catalog/products");

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        var body = await response.Content.ReadAsStringAsync();
        body.Should().NotContain("ERR_").And.NotContain("failed to invoke");
        var problem = await ProblemOf(response);
        problem.GetProperty("status").GetInt32().Should().Be(503);
        problem.GetProperty("detail").GetString().Should().Be("The catalog service is not available right now.");
    }

    [Fact]
    public async Task An_unreachable_storefront_answers_503_problem_details()
    {
        using var http = lone.CreateClient("198.51.100.11");

        using var response = await http.GetAsync("/products/lamp");

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await ProblemOf(response)).GetProperty("detail").GetString().Should().Be("The storefront cannot be reached right now.");
    }

    [Fact]
    public async Task A_client_over_its_limit_gets_429_problem_details_with_retry_after()
    {
        using var http = lone.CreateClient("198.51.100.20");
        for (var i = 0; i < LoneGateway.PermitLimit; i++)
        {
            (await http.GetAsync("/api/v1/inventory/p-0001")).StatusCode.Should().NotBe(HttpStatusCode.TooManyRequests);
        }

        using var refused = await http.GetAsync("/api/v1/inventory/p-0001");

        refused.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        refused.Headers.RetryAfter!.Delta!.Value.Should().BeGreaterThan(TimeSpan.Zero).And.BeLessThanOrEqualTo(TimeSpan.FromSeconds(60));
        var problem = await ProblemOf(refused);
        problem.GetProperty("status").GetInt32().Should().Be(429);
        problem.GetProperty("title").GetString().Should().Be("Too Many Requests");
    }

    [Fact]
    public async Task Clients_behind_a_trusted_proxy_are_limited_one_by_one()
    {
        using var greedy = lone.CreateClient("198.51.100.30");
        using var modest = lone.CreateClient("198.51.100.31");
        for (var i = 0; i < LoneGateway.PermitLimit; i++)
        {
            await greedy.GetAsync("/api/v1/baskets/greedy");
        }
        (await greedy.GetAsync("/api/v1/baskets/greedy")).StatusCode.Should().Be(HttpStatusCode.TooManyRequests);

        (await modest.GetAsync("/api/v1/baskets/modest")).StatusCode.Should().NotBe(HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task Health_endpoints_are_not_rate_limited()
    {
        using var http = lone.CreateClient("198.51.100.40");

        for (var i = 0; i < LoneGateway.PermitLimit * 3; i++)
        {
            (await http.GetAsync("/alive")).StatusCode.Should().Be(HttpStatusCode.OK);
        }
    }
}
