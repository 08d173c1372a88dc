using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DaprShop.Testing;
using FluentAssertions;

namespace DaprShop.Gateway.Tests.Integration;

/// <summary>Load shedding: past its admission limits the gateway answers 503 at once instead of queueing without end.</summary>
[Collection(EdgeCollection.Name)]
public sealed class AdmissionTests(Edge edge)
{
    [Fact]
    public async Task Past_its_limits_the_gateway_sheds_api_calls_with_a_fast_503_and_admits_again_when_calls_finish()
    {
        using var http = edge.CreateClient(edge.BusyGateway);
        var hangsBefore = edge.Catalog.RequestsTo("/api/v1/catalog/hang").Count();

        // Fill the places: these hang in the catalog until the gateway's 2 s activity timeout (distinct queries, or the
        // output cache would let only the first through and hold the others itself).
        var holding = Enumerable.Range(0, Edge.BusyMaxConcurrent).Select(i => http.GetAsync($"/api/v1/catalog/hang?holder={i}")).ToList();
        await Eventually.HoldsAsync(() => edge.Catalog.RequestsTo("/api/v1/catalog/hang").Count() - hangsBefore == Edge.BusyMaxConcurrent, TimeSpan.FromSeconds(10), "both calls should reach the catalog");
        // One more waits in the queue; it is refused once its 500 ms are up, long before a place frees.
        var clock = Stopwatch.StartNew();
        var waiting = http.GetAsync("/api/v1/baskets/queued");
        await Task.Delay(100);

        // The queue is full: refused at once.
        var shedClock = Stopwatch.StartNew();
        using var shed = await http.GetAsync("/api/v1/inventory/shed-while-full");
        shedClock.Stop();

        shed.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        shedClock.Elapsed.Should().BeLessThan(TimeSpan.FromMilliseconds(Edge.BusyQueueMilliseconds), "a full queue refuses without waiting");
        shed.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(1));
        shed.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var problem = await shed.Content.ReadFromJsonAsync<JsonElement>();
        problem.GetProperty("status").GetInt32().Should().Be(503);
        problem.GetProperty("detail").GetString().Should().Be("The shop is busy right now; try again in a moment.");

        using (var queued = await waiting)
        {
            clock.Stop();
            queued.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
            clock.Elapsed.Should().BeGreaterThan(TimeSpan.FromMilliseconds(Edge.BusyQueueMilliseconds - 100))
                .And.BeLessThan(TimeSpan.FromSeconds(Edge.ApiTimeoutSeconds), "the queued call is refused after its wait, not when a place frees");
        }
        edge.Inventory.RequestsTo("/api/v1/inventory/shed-while-full").Should().BeEmpty("a shed call reaches nobody");

        // Not API calls: health and the storefront answer while the API is full.
        (await http.GetAsync("/alive")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await http.GetAsync("/")).StatusCode.Should().Be(HttpStatusCode.OK);

        foreach (var held in await Task.WhenAll(holding))
        {
            held.StatusCode.Should().Be(HttpStatusCode.GatewayTimeout);
            held.Dispose();
        }
        using var admitted = await http.GetAsync("/api/v1/inventory/admitted-after");
        admitted.StatusCode.Should().Be(HttpStatusCode.OK);
        (await admitted.Content.ReadFromJsonAsync<StandInAnswer>())!.App.Should().Be("inventory");
    }
}
