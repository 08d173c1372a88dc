using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DaprShop.Sidecar.Tests.Hosting;

public sealed class AppHealthTests
{
    [Fact]
    public async Task Deliveries_pause_while_the_app_fails_its_health_checks_and_resume_after()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().WithComponent("pubsub", "pubsub.in-memory", ("redeliverInterval", "200ms"));
        var healthy = true;
        await using var app = await TestApp.StartAsync(a =>
        {
            a.MapGet("/healthz", () => healthy ? Results.Ok() : Results.StatusCode(503));
            a.MapGet("/dapr/subscribe", () => Results.Json(new[] { new { pubsubname = "pubsub", topic = "t", route = "/t" } }));
            a.MapPost("/t", () => Results.Ok());
        });
        await using var sidecar = await SidecarProcess.StartAsync(new()
        {
            AppId = "probed",
            AppPort = app.Port,
            ResourcesPaths = [resources.Path],
            MeshDirectory = mesh.Directory,
            ExtraArgs = ["--enable-app-health-check", "--app-health-probe-interval", "1", "--app-health-threshold", "1"],
        });
        using var client = sidecar.CreateClient();

        healthy = false;
        var probesBefore = app.RequestsTo("/healthz").Count();
        await Eventually.HoldsAsync(() => app.RequestsTo("/healthz").Count() > probesBefore + 1, "the sidecar probes the app and sees it fail");
        await client.PublishEventAsync("pubsub", "t", new { n = 1 });
        await Task.Delay(1500);
        app.RequestsTo("/t").Should().BeEmpty("an unhealthy app gets no deliveries");

        healthy = true;
        await Eventually.HoldsAsync(() => app.RequestsTo("/t").Any(), "delivery resumes once the app is healthy");
    }
}
