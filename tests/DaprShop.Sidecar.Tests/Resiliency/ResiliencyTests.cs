using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DaprShop.Sidecar.Tests.Resiliency;

public sealed class ResiliencyTests
{
    private const string Policies = """
        apiVersion: dapr.io/v1alpha1
        kind: Resiliency
        metadata:
          name: shop-resiliency
        spec:
          policies:
            timeouts:
              fast: 300ms
            retries:
              three:
                policy: constant
                duration: 20ms
                maxRetries: 3
                matching:
                  httpStatusCodes: 503
              twice:
                policy: constant
                duration: 20ms
                maxRetries: 2
            circuitBreakers:
              cb:
                maxRequests: 1
                timeout: 30s
                trip: consecutiveFailures >= 3
          targets:
            apps:
              flaky:
                retry: three
              choosy:
                retry: twice
              slow:
                timeout: fast
              broken:
                circuitBreaker: cb
        """;

    private static async Task<(TestApp App, SidecarProcess Target, SidecarProcess Caller)> StartAsync(TestMesh mesh, ResourcesFolder resources, string appId, Action<WebApplication> map)
    {
        var app = await TestApp.StartAsync(map);
        var target = await SidecarProcess.StartAsync(new() { AppId = appId, AppPort = app.Port, ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        var caller = await SidecarProcess.StartAsync(new() { AppId = "caller", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        return (app, target, caller);
    }

    [Fact]
    public async Task A_retry_policy_retries_the_matching_status_until_the_app_answers()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().With("resiliency.yaml", Policies);
        var calls = 0;
        var (app, target, caller) = await StartAsync(mesh, resources, "flaky", a => a.MapPost("/charge", async (HttpRequest r) =>
        {
            using var reader = new StreamReader(r.Body);
            var body = await reader.ReadToEndAsync();
            return Interlocked.Increment(ref calls) <= 2 ? Results.StatusCode(503) : Results.Text("charged " + body);
        }));
        await using var _ = app;
        await using var __ = target;
        await using var ___ = caller;
        using var http = caller.CreateHttpClient();

        var response = await http.PostAsync("/v1.0/invoke/flaky/method/charge", new StringContent("42"));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("charged 42", "the body is sent again whole on each retry");
        calls.Should().Be(3);
    }

    [Fact]
    public async Task Without_matching_statuses_a_retry_policy_retries_any_answer_outside_200_to_399_as_daprd_does()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().With("resiliency.yaml", Policies);
        var calls = 0;
        var (app, target, caller) = await StartAsync(mesh, resources, "choosy", a => a.MapGet("/item", () =>
            Interlocked.Increment(ref calls) == 1 ? Results.NotFound() : Results.Text("found")));
        await using var _ = app;
        await using var __ = target;
        await using var ___ = caller;
        using var http = caller.CreateHttpClient();

        var response = await http.GetAsync("/v1.0/invoke/choosy/method/item");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("found");
        calls.Should().Be(2, "a 404 is a failed call to daprd's resiliency, so it is retried");
    }

    [Fact]
    public async Task A_timeout_policy_ends_a_slow_call()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().With("resiliency.yaml", Policies);
        var (app, target, caller) = await StartAsync(mesh, resources, "slow", a => a.MapGet("/report", async () =>
        {
            await Task.Delay(5000);
            return Results.Ok();
        }));
        await using var _ = app;
        await using var __ = target;
        await using var ___ = caller;
        using var http = caller.CreateHttpClient();

        var started = DateTime.UtcNow;
        var response = await http.GetAsync("/v1.0/invoke/slow/method/report");

        (DateTime.UtcNow - started).Should().BeLessThan(TimeSpan.FromSeconds(3));
        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError, "daprd reports the timeout as a failed invocation");
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        error.GetProperty("errorCode").GetString().Should().Be("ERR_DIRECT_INVOKE");
        error.GetProperty("message").GetString().Should().Be("failed to invoke, id: slow, err: context deadline exceeded");
    }

    [Fact]
    public async Task A_circuit_breaker_opens_after_consecutive_failures_and_fails_fast()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().With("resiliency.yaml", Policies);
        var calls = 0;
        var (app, target, caller) = await StartAsync(mesh, resources, "broken", a => a.MapGet("/x", () =>
        {
            Interlocked.Increment(ref calls);
            return Results.StatusCode(500);
        }));
        await using var _ = app;
        await using var __ = target;
        await using var ___ = caller;
        using var http = caller.CreateHttpClient();

        for (var i = 0; i < 3; i++)
        {
            (await http.GetAsync("/v1.0/invoke/broken/method/x")).StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        }
        var open = await http.GetAsync("/v1.0/invoke/broken/method/x");

        calls.Should().Be(3, "the open breaker refuses the fourth call without making it");
        open.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await open.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("message").GetString().Should().Be("failed to invoke, id: broken, err: circuit breaker is open");
    }

    [Fact]
    public async Task Without_an_app_target_a_sidecar_that_cannot_be_reached_is_tried_again_a_second_apart_as_daprds_built_in_retries_do()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder();
        await using var caller = await SidecarProcess.StartAsync(new() { AppId = "caller", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var http = caller.CreateHttpClient();
        var port = await RegisterStartingReplicaAsync(mesh);

        var call = http.GetAsync("/v1.0/invoke/starting/method/hello");
        await Task.Delay(1500);
        await using var late = await TestApp.StartAsync(a => a.Map("/{**path}", () => Results.Text("finally")), port: port);

        using var answer = await call;
        answer.StatusCode.Should().Be(HttpStatusCode.OK, "the call waited for the replica instead of failing at once");
        (await answer.Content.ReadAsStringAsync()).Should().Be("finally");
    }

    private static ResourcesFolder BuiltInServiceRetries(string duration, int maxRetries) => new ResourcesFolder().WithResiliency($"""
        policies:
          retries:
            DaprBuiltInServiceRetries:
              policy: constant
              duration: {duration}
              maxRetries: {maxRetries}
        """);

    [Fact]
    public async Task A_resiliency_resource_can_redefine_the_built_in_service_retries()
    {
        using var mesh = new TestMesh();
        using var resources = BuiltInServiceRetries("100ms", 3);
        await using var caller = await SidecarProcess.StartAsync(new() { AppId = "caller", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var http = caller.CreateHttpClient();
        await RegisterStartingReplicaAsync(mesh);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var answer = await http.GetAsync("/v1.0/invoke/starting/method/hello");

        answer.StatusCode.Should().Be(HttpStatusCode.InternalServerError, "the replica never listens");
        (await answer.Content.ReadAsStringAsync()).Should().Contain("ERR_DIRECT_INVOKE");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2.5), "3 retries 100 ms apart, not the default's 3 a second apart");
    }

    [Fact]
    public async Task The_built_in_service_retries_cannot_be_redefined_below_three_retries()
    {
        using var mesh = new TestMesh();
        using var resources = BuiltInServiceRetries("500ms", 0);
        await using var caller = await SidecarProcess.StartAsync(new() { AppId = "caller", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var http = caller.CreateHttpClient();
        var port = await RegisterStartingReplicaAsync(mesh);

        var call = http.GetAsync("/v1.0/invoke/starting/method/hello");
        await Task.Delay(600);
        await using var late = await TestApp.StartAsync(a => a.Map("/{**path}", () => Results.Text("finally")), port: port);

        using var answer = await call;
        answer.StatusCode.Should().Be(HttpStatusCode.OK, "maxRetries 0 counts as daprd's minimum of 3, so the call was still being retried");
        (await answer.Content.ReadAsStringAsync()).Should().Be("finally");
    }

    /// <summary>
    /// A replica of <c>starting</c> that is registered in the mesh (its process is alive: this one) but does not
    /// listen yet, as while it starts. Returns the port it will listen on.
    /// </summary>
    private static async Task<int> RegisterStartingReplicaAsync(TestMesh mesh)
    {
        var port = Ports.Free();
        var entry = new
        {
            appId = "starting", @namespace = "", instanceId = "pending", pid = Environment.ProcessId, address = "127.0.0.1",
            httpPort = port, grpcPort = Ports.Free(), token = "t", subscriptions = Array.Empty<string>(), actorTypes = Array.Empty<string>(), startedAt = DateTimeOffset.UtcNow,
        };
        await File.WriteAllTextAsync(Path.Combine(mesh.Directory, "starting~pending.json"), JsonSerializer.Serialize(entry));
        return port;
    }
}
