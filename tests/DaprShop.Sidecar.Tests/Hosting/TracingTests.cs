using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DaprShop.Sidecar.Tests.Hosting;

public sealed class TracingTests
{
    [Fact]
    public async Task Spans_are_exported_over_otlp_with_the_callers_trace_id()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder();
        // A stand-in OTLP/HTTP collector: it records the protobuf payloads it is sent.
        await using var collector = await TestApp.StartAsync(a => a.MapPost("/v1/traces", () => Results.Ok()));
        await using var app = await TestApp.StartAsync(a => a.MapGet("/traced", () => Results.Ok()));
        await using var sidecar = await SidecarProcess.StartAsync(new()
        {
            AppId = "traced",
            AppPort = app.Port,
            ResourcesPaths = [resources.Path],
            MeshDirectory = mesh.Directory,
            Environment = new Dictionary<string, string>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{collector.Port}",
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
                ["OTEL_SERVICE_NAME"] = "traced-sidecar",
            },
        });
        using var http = sidecar.CreateHttpClient();
        const string traceId = "5bf92f3577b34da6a3ce929d0e0e4736";

        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1.0/invoke/traced/method/traced");
        request.Headers.Add("traceparent", $"00-{traceId}-00f067aa0ba902b7-01");
        (await http.SendAsync(request)).EnsureSuccessStatusCode();

        var traceIdBytes = Convert.FromHexString(traceId);
        await Eventually.HoldsAsync(
            () => collector.RequestsTo("/v1/traces").Any(r => r.Body.AsSpan().IndexOf(traceIdBytes) >= 0),
            "the collector receives the sidecar's spans of that trace");
        collector.RequestsTo("/v1/traces").First().Body.AsSpan().IndexOf("traced-sidecar"u8).Should().BeGreaterThanOrEqualTo(0, "spans carry the service name");
    }
}
