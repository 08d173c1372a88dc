using System.Diagnostics;
using System.Net;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;

namespace DaprShop.Sidecar.Tests.Actors;

/// <summary>Resiliency's <c>targets.actors</c> through a real sidecar and an app hosting actors with the official SDK.</summary>
public sealed class ActorResiliencyTests
{
    private static ResourcesFolder Resources(string scope) => new ResourcesFolder()
        .WithComponent("store", "state.in-memory", ("actorStateStore", "true"))
        .WithResiliency($"""
            policies:
              circuitBreakers:
                counters:
                  timeout: 60s
                  trip: consecutiveFailures >= 2
            targets:
              actors:
                CounterActor:
                  circuitBreaker: counters
                  circuitBreakerScope: {scope}
            """);

    /// <summary>An actor state store and a Resiliency resource that gives <c>CounterActor</c> a timeout and nothing else.</summary>
    private static ResourcesFolder WithActorTimeout(string timeout) => new ResourcesFolder()
        .WithComponent("store", "state.in-memory", ("actorStateStore", "true"))
        .WithResiliency($"""
            policies:
              timeouts:
                actor: {timeout}
            targets:
              actors:
                CounterActor:
                  timeout: actor
            """);

    private static Task<HttpResponseMessage> Call(HttpClient sidecar, string id, string method, string? body = null) =>
        sidecar.PutAsync($"/v1.0/actors/CounterActor/{id}/method/{method}", body is null ? null : new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

    /// <summary>Two failures of the actor <c>broken</c> trip its breaker; the third call is refused by the sidecar.</summary>
    private static async Task TripAsync(ActorApp host, HttpClient sidecar)
    {
        for (var i = 0; i < 2; i++)
        {
            using var failed = await Call(sidecar, "broken", "Fail");
            failed.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        }
        using var refused = await Call(sidecar, "broken", "Fail");
        refused.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await refused.Content.ReadAsStringAsync()).Should().Contain("ERR_ACTOR_INVOKE_METHOD").And.Contain("circuit breaker is open");
        host.App.RequestsTo("/actors/CounterActor/broken/method/Fail").Should().HaveCount(2, "the open breaker refused the third call without calling the app");
    }

    [Fact]
    public async Task An_actor_breaker_scoped_by_id_opens_for_the_failing_actor_only()
    {
        using var mesh = new TestMesh();
        using var resources = Resources("id");
        await using var host = await ActorApp.StartAsync("counters", mesh, resources.Path, "host");
        using var sidecar = host.Sidecar.CreateHttpClient();

        await TripAsync(host, sidecar);

        using var healthy = await Call(sidecar, "healthy", "WhoAmI");
        healthy.StatusCode.Should().Be(HttpStatusCode.OK, "another actor of the type has a breaker of its own");
        (await host.Proxy("healthy").IncrementSlowly()).Should().Be(1);
    }

    [Fact]
    public async Task An_actor_timeout_counts_from_the_start_of_the_actors_turn_not_from_the_wait_for_it()
    {
        using var mesh = new TestMesh();
        using var resources = WithActorTimeout("1s");
        await using var host = await ActorApp.StartAsync("counters", mesh, resources.Path, "host");
        using var sidecar = host.Sidecar.CreateHttpClient();

        // The second call waits about 0.7 s for the first to end its turn, then takes 0.7 s: 1.4 s in all.
        var first = Call(sidecar, "sleeper", "Sleep", "700");
        await Task.Delay(150);
        var second = Call(sidecar, "sleeper", "Sleep", "700");
        using var firstAnswer = await first;
        using var secondAnswer = await second;

        firstAnswer.StatusCode.Should().Be(HttpStatusCode.OK);
        secondAnswer.StatusCode.Should().Be(HttpStatusCode.OK, "as in daprd, the 1 s timeout runs once the call has the actor's turn");

        using var tooSlow = await Call(sidecar, "sleeper", "Sleep", "1500");
        tooSlow.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await tooSlow.Content.ReadAsStringAsync()).Should().Contain("ERR_ACTOR_INVOKE_METHOD").And.Contain("timeout");
    }

    [Fact]
    public async Task An_actor_breaker_scoped_by_type_opens_for_every_actor_of_the_type()
    {
        using var mesh = new TestMesh();
        using var resources = Resources("type");
        await using var host = await ActorApp.StartAsync("counters", mesh, resources.Path, "host");
        using var sidecar = host.Sidecar.CreateHttpClient();

        await TripAsync(host, sidecar);

        using var healthy = await Call(sidecar, "healthy", "WhoAmI");
        healthy.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await healthy.Content.ReadAsStringAsync()).Should().Contain("circuit breaker is open");
        host.App.RequestsTo("/actors/CounterActor/healthy/method/WhoAmI").Should().BeEmpty("the type's one breaker is open");
    }

    [Fact]
    public async Task A_call_to_an_actor_type_whose_host_is_still_starting_waits_for_it_as_daprd_does()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().WithComponent("store", "state.in-memory", ("actorStateStore", "true"));
        await using var caller = await SidecarProcess.StartAsync(new() { AppId = "storefront", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });

        // No sidecar hosts the type when the call arrives: daprd's DaprBuiltInActorNotFoundRetries look again, a
        // second apart, five times, while placement catches up.
        var early = ActorApp.Counter(caller.HttpPort, "early").WhoAmI();
        await Task.Delay(300);
        early.IsCompleted.Should().BeFalse("the call waits for a host instead of failing");
        await using var host = await ActorApp.StartAsync("counters", mesh, resources.Path, "host");

        (await early).Should().Be("host");
    }

    [Fact]
    public async Task A_call_to_an_actor_type_a_resiliency_target_names_is_not_retried_by_the_built_in_policy()
    {
        using var mesh = new TestMesh();
        using var resources = WithActorTimeout("5s");
        await using var caller = await SidecarProcess.StartAsync(new() { AppId = "storefront", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var sidecar = caller.CreateHttpClient();

        var clock = Stopwatch.StartNew();
        using var answer = await Call(sidecar, "nobody", "WhoAmI");

        answer.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await answer.Content.ReadAsStringAsync()).Should().Contain("ERR_ACTOR_INVOKE_METHOD").And.Contain("did not find address for actor CounterActor/nobody");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(3), "a named target's own policy (no retry here) replaces the five retries a second apart");
    }
}
