using System.Collections.Concurrent;
using System.Diagnostics;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DaprShop.ServiceDefaults.Tests;

/// <summary>
/// A service built with <c>AddServiceDefaults</c>, on a real Kestrel port, called with a <c>traceparent</c>; it calls
/// a second server that records the <c>traceparent</c> it receives. Activity listeners are process-wide, so these
/// tests share one class (run one at a time) and each stops its service before the next starts.
/// </summary>
public sealed class TelemetryTests
{
    private const string CallerTrace = "0af7651916cd43dd8448eb211c80319c";
    private const string CallerSpan = "b7ad6b7169203331";

    [Fact]
    public async Task A_service_carries_the_callers_trace_and_sampling_decision_into_its_calls()
    {
        await using var downstream = await Downstream.StartAsync();
        await using var service = await StartServiceAsync(otlpEndpoint: null, downstream.Url);

        var seenBy = await service.CallAsync(sampled: true);

        seenBy.Source.Should().Be("Microsoft.AspNetCore", "the request has a span of the service's own");
        var traceparent = downstream.Traceparents.Should().ContainSingle().Subject.Split('-');
        traceparent[1].Should().Be(CallerTrace, "the call carries the caller's trace");
        traceparent[2].Should().NotBe(CallerSpan).And.NotBe(seenBy.SpanId, "its parent is the call's own client span");
        traceparent[3].Should().Be("01", "the caller's sampling decision is kept, so a sidecar further on records it too");
    }

    [Fact]
    public async Task An_unsampled_trace_stays_unsampled()
    {
        await using var downstream = await Downstream.StartAsync();
        await using var service = await StartServiceAsync(otlpEndpoint: null, downstream.Url);

        await service.CallAsync(sampled: false);

        var traceparent = downstream.Traceparents.Should().ContainSingle().Subject.Split('-');
        traceparent[1].Should().Be(CallerTrace);
        traceparent[3].Should().Be("00");
    }

    [Fact]
    public async Task Workflow_spans_are_made_so_that_a_checkout_stays_one_trace()
    {
        await using var downstream = await Downstream.StartAsync();
        await using var service = await StartServiceAsync(otlpEndpoint: null, downstream.Url);
        using var workflows = NewSource("Dapr.Workflow");
        var parent = new ActivityContext(ActivityTraceId.CreateFromString(CallerTrace), ActivitySpanId.CreateFromString(CallerSpan), ActivityTraceFlags.Recorded);

        using var activity = workflows.StartActivity("activity||ReserveStockActivity", ActivityKind.Server, parent);

        activity.Should().NotBeNull("the workflow SDK's spans are what an activity's calls take their trace from");
        activity!.TraceId.ToHexString().Should().Be(CallerTrace);
        activity.Recorded.Should().BeTrue();
    }

    [Fact]
    public async Task With_an_exporter_requests_and_calls_are_recorded_as_spans()
    {
        await using var downstream = await Downstream.StartAsync();
        // Nothing listens there: the export fails in the background, which is all this test needs.
        await using var service = await StartServiceAsync(otlpEndpoint: "http://127.0.0.1:9", downstream.Url);

        var seenBy = await service.CallAsync(sampled: true);

        using var calls = NewSource("System.Net.Http");
        calls.HasListeners().Should().BeTrue("each call to the sidecar is a span");
        seenBy.Source.Should().Be("Microsoft.AspNetCore");
        seenBy.Recorded.Should().BeTrue();
        downstream.Traceparents.Should().ContainSingle().Which.Should().Contain(CallerTrace);
    }

    private static ActivitySource NewSource(string name) => new(name);

    private sealed record SeenBy(string Source, string SpanId, bool Recorded);

    private static async Task<Service> StartServiceAsync(string? otlpEndpoint, string downstreamUrl)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ApplicationName = "telemetry-test", EnvironmentName = Environments.Production });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        // Explicit, whatever the test process's environment holds.
        builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlpEndpoint ?? "";
        builder.AddServiceDefaults();
        builder.Services.AddHttpClient();
        var app = builder.Build();
        app.MapGet("/call", async (IHttpClientFactory http) =>
        {
            var current = Activity.Current!;
            var seen = new SeenBy(current.Source.Name, current.SpanId.ToHexString(), current.Recorded);
            (await http.CreateClient().GetAsync(downstreamUrl)).EnsureSuccessStatusCode();
            return Results.Json(seen);
        });
        await app.StartAsync();
        return new Service(app);
    }

    private sealed class Service(WebApplication app) : IAsyncDisposable
    {
        public async Task<SeenBy> CallAsync(bool sampled)
        {
            // As a sidecar calls: with its own traceparent, which this process's HttpClient instrumentation must not replace.
            using var client = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null });
            using var request = new HttpRequestMessage(HttpMethod.Get, Url(app) + "/call");
            request.Headers.Add("traceparent", $"00-{CallerTrace}-{CallerSpan}-{(sampled ? "01" : "00")}");
            using var response = await client.SendAsync(request);
            response.EnsureSuccessStatusCode();
            return (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<SeenBy>(response.Content))!;
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static string Url(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    /// <summary>A bare server (no service defaults) that keeps the <c>traceparent</c> of each request.</summary>
    private sealed class Downstream(WebApplication app) : IAsyncDisposable
    {
        public ConcurrentQueue<string> Traceparents { get; } = new();

        public string Url => TelemetryTests.Url(app);

        public static async Task<Downstream> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var downstream = new Downstream(app);
            app.MapGet("/", (HttpContext context) =>
            {
                downstream.Traceparents.Enqueue(context.Request.Headers["traceparent"].ToString());
                return Results.Ok();
            });
            await app.StartAsync();
            return downstream;
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
