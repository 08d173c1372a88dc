using DaprShop.Sidecar.Hosting;
using DaprShop.Sidecar.Resiliency;
using DaprShop.Sidecar.Resources;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;

namespace DaprShop.Sidecar.Tests.Unit;

/// <summary>The policy engine on its own, over a clock the test moves: breaker states, backoff, default policies.</summary>
public sealed class ResiliencyEngineTests : IDisposable
{
    private readonly ManualClock _clock = new();
    private readonly List<ResourcesFolder> _folders = [];

    private ResiliencyEngine Engine(string spec, params (string Name, string Type)[] components)
    {
        var folder = new ResourcesFolder().With("resiliency.yaml", $"""
            apiVersion: dapr.io/v1alpha1
            kind: Resiliency
            metadata:
              name: r
            spec:
            {spec}
            """);
        foreach (var (name, type) in components)
        {
            folder.WithComponent(name, type);
        }
        _folders.Add(folder);
        return new ResiliencyEngine(ResourceLoader.Load([folder.Path], null, "app"), _clock);
    }

    private const string Breaker = """
          policies:
            circuitBreakers:
              cb:
                maxRequests: 2
                timeout: 10s
                trip: consecutiveFailures > 1
          targets:
            components:
              store:
                outbound:
                  circuitBreaker: cb
        """;

    private static Task<int> Fail(CancellationToken _) => throw new InvalidOperationException("down");

    private static async Task Trip(ResiliencyPolicy policy)
    {
        for (var i = 0; i < 2; i++)
        {
            await policy.Invoking(p => p.ExecuteAsync(Fail, CancellationToken.None)).Should().ThrowAsync<InvalidOperationException>();
        }
    }

    [Fact]
    public async Task A_half_open_probe_the_caller_gives_up_on_counts_as_a_failure_and_the_breaker_recovers_later()
    {
        var policy = Engine(Breaker, ("store", "state.in-memory")).ForComponentOutbound("store");
        await Trip(policy);
        await policy.Invoking(p => p.ExecuteAsync(_ => Task.FromResult(1), CancellationToken.None)).Should().ThrowAsync<CircuitOpenException>();

        _clock.Advance(TimeSpan.FromSeconds(11));
        using var giveUp = new CancellationTokenSource();
        var probe = policy.ExecuteAsync(async c => { await Task.Delay(Timeout.Infinite, c); return 1; }, giveUp.Token);
        await giveUp.CancelAsync();
        await probe.Invoking(p => p).Should().ThrowAsync<OperationCanceledException>();

        await policy.Invoking(p => p.ExecuteAsync(_ => Task.FromResult(1), CancellationToken.None)).Should().ThrowAsync<CircuitOpenException>("the abandoned probe opened it again");
        _clock.Advance(TimeSpan.FromSeconds(11));
        (await policy.ExecuteAsync(_ => Task.FromResult(7), CancellationToken.None)).Should().Be(7, "half-open again: the probe slot was not lost");
    }

    [Fact]
    public async Task A_half_open_breaker_closes_only_after_max_requests_successes_in_a_row()
    {
        var policy = Engine(Breaker, ("store", "state.in-memory")).ForComponentOutbound("store");
        await Trip(policy);
        _clock.Advance(TimeSpan.FromSeconds(11));

        (await policy.ExecuteAsync(_ => Task.FromResult(1), CancellationToken.None)).Should().Be(1);
        (await policy.ExecuteAsync(_ => Task.FromResult(2), CancellationToken.None)).Should().Be(2);
        await policy.Invoking(p => p.ExecuteAsync(Fail, CancellationToken.None)).Should().ThrowAsync<InvalidOperationException>();

        (await policy.ExecuteAsync(_ => Task.FromResult(3), CancellationToken.None)).Should().Be(3, "two successes closed it; one failure does not trip it again");
    }

    [Fact]
    public async Task Errors_that_are_not_retried_still_count_against_the_breaker()
    {
        var policy = Engine(Breaker, ("store", "state.in-memory")).ForComponentOutbound("store");

        for (var i = 0; i < 2; i++)
        {
            await policy.Invoking(p => p.ExecuteAsync(Fail, CancellationToken.None, isRetriable: _ => false)).Should().ThrowAsync<InvalidOperationException>();
        }

        await policy.Invoking(p => p.ExecuteAsync(_ => Task.FromResult(1), CancellationToken.None)).Should().ThrowAsync<CircuitOpenException>(
            "daprd's breaker sits inside the retry loop and sees every error, an ETag conflict included");
    }

    [Fact]
    public async Task Errors_of_the_sidecars_own_making_can_be_kept_out_of_the_breakers_count()
    {
        var policy = Engine(Breaker, ("store", "state.in-memory")).ForComponentOutbound("store");

        for (var i = 0; i < 4; i++)
        {
            await policy.Invoking(p => p.ExecuteAsync(Fail, CancellationToken.None, isRetriable: _ => false, countsAgainstBreaker: _ => false))
                .Should().ThrowAsync<InvalidOperationException>();
        }

        (await policy.ExecuteAsync(_ => Task.FromResult(1), CancellationToken.None)).Should().Be(1, "the reminder layout's own conflicts do not open the store's breaker");
    }

    [Fact]
    public void Exponential_backoff_starts_at_500ms_whatever_the_duration_grows_by_half_and_gives_up_after_15_minutes()
    {
        var retry = new RetryPolicy("r", BackoffKind.Exponential, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(2), -1, new HashSet<int>(), new HashSet<int>());

        Enumerable.Range(1, 6).Select(retry.DelayBefore).Should().Equal(
            TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(750), TimeSpan.FromMilliseconds(1125), TimeSpan.FromMilliseconds(1687.5), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2));
        retry.Allows(1000, TimeSpan.FromMinutes(14), TimeSpan.FromSeconds(2)).Should().BeTrue("maxRetries -1 has no count limit");
        retry.Allows(1000, TimeSpan.FromMinutes(15), TimeSpan.FromSeconds(2)).Should().BeFalse("but daprd's exponential backoff stops after 15 minutes");
        (retry with { Policy = BackoffKind.Constant }).Allows(1000, TimeSpan.FromHours(2), TimeSpan.FromSeconds(2)).Should().BeTrue("a constant policy has no time limit");
    }

    [Fact]
    public async Task Default_policies_apply_by_name_from_the_most_specific_to_the_global_one()
    {
        var engine = Engine("""
              policies:
                retries:
                  DefaultRetryPolicy:
                    policy: constant
                    duration: 0s
                    maxRetries: 2
                  DefaultStatestoreComponentOutboundRetryPolicy:
                    policy: constant
                    duration: 0s
                    maxRetries: 4
                  named:
                    policy: constant
                    duration: 0s
                    maxRetries: 0
              targets:
                components:
                  pinned:
                    outbound:
                      retry: named
            """, ("store", "state.in-memory"), ("broker", "pubsub.in-memory"), ("pinned", "state.in-memory"));

        async Task<int> Attempts(ResiliencyPolicy policy)
        {
            var attempts = 0;
            await policy.Invoking(p => p.ExecuteAsync<int>(_ => { attempts++; throw new InvalidOperationException(); }, CancellationToken.None)).Should().ThrowAsync<InvalidOperationException>();
            return attempts;
        }

        (await Attempts(engine.ForComponentOutbound("store"))).Should().Be(5, "DefaultStatestoreComponentOutboundRetryPolicy");
        (await Attempts(engine.ForComponentOutbound("broker"))).Should().Be(3, "no pub/sub default, so DefaultRetryPolicy");
        (await Attempts(engine.ForApp("orders", "x"))).Should().Be(3, "apps fall back to DefaultRetryPolicy too");
        (await Attempts(engine.ForComponentOutbound("pinned"))).Should().Be(1, "a target with an entry of its own gets no defaults");
        engine.HasAppTarget("orders").Should().BeFalse();
    }

    [Fact]
    public async Task App_breakers_are_kept_per_method()
    {
        var engine = Engine("""
              policies:
                circuitBreakers:
                  cb:
                    timeout: 10s
                    trip: consecutiveFailures >= 1
              targets:
                apps:
                  orders:
                    circuitBreaker: cb
            """);

        await engine.ForApp("orders", "broken").Invoking(p => p.ExecuteAsync(Fail, CancellationToken.None)).Should().ThrowAsync<InvalidOperationException>();

        await engine.ForApp("orders", "broken").Invoking(p => p.ExecuteAsync(_ => Task.FromResult(1), CancellationToken.None)).Should().ThrowAsync<CircuitOpenException>();
        (await engine.ForApp("orders", "healthy").ExecuteAsync(_ => Task.FromResult(1), CancellationToken.None)).Should().Be(1, "another method of the app has its own breaker");
        engine.HasAppTarget("orders").Should().BeTrue();
    }

    private static string ActorBreaker(string scope, string extra = "") => $"""
          policies:
            circuitBreakers:
              cb:
                timeout: 10s
                trip: consecutiveFailures >= 1
          targets:
            actors:
              Basket:
                circuitBreaker: cb
                circuitBreakerScope: {scope}{extra}
        """;

    [Theory]
    [InlineData("id", false)]
    [InlineData("both", false)]
    [InlineData("type", true)]
    public async Task An_actor_breaker_is_kept_per_id_or_per_type_as_its_scope_says(string scope, bool sharedByTheType)
    {
        var engine = Engine(ActorBreaker(scope));

        await engine.ForActor("Basket", "a").Invoking(p => p.ExecuteAsync(Fail, CancellationToken.None)).Should().ThrowAsync<InvalidOperationException>();

        await engine.ForActor("Basket", "a").Invoking(p => p.ExecuteAsync(_ => Task.FromResult(1), CancellationToken.None)).Should().ThrowAsync<CircuitOpenException>();
        var other = engine.ForActor("Basket", "b").Invoking(p => p.ExecuteAsync(_ => Task.FromResult(1), CancellationToken.None));
        if (sharedByTheType)
        {
            await other.Should().ThrowAsync<CircuitOpenException>("one breaker for every actor of the type");
        }
        else
        {
            await other.Should().NotThrowAsync("each actor id has a breaker of its own");
        }
    }

    [Fact]
    public async Task An_actor_type_without_an_entry_of_its_own_shares_the_default_breaker_across_its_ids()
    {
        var engine = Engine("""
              policies:
                circuitBreakers:
                  DefaultActorCircuitBreakerPolicy:
                    timeout: 10s
                    trip: consecutiveFailures >= 1
            """);

        await engine.ForActor("Basket", "a").Invoking(p => p.ExecuteAsync(Fail, CancellationToken.None)).Should().ThrowAsync<InvalidOperationException>();

        await engine.ForActor("Basket", "b").Invoking(p => p.ExecuteAsync(_ => Task.FromResult(1), CancellationToken.None)).Should().ThrowAsync<CircuitOpenException>();
        (await engine.ForActor("Order", "a").ExecuteAsync(_ => Task.FromResult(1), CancellationToken.None)).Should().Be(1, "another type has its own");
    }

    [Fact]
    public async Task Per_id_breakers_are_bounded_by_the_cache_size_least_recently_used_out()
    {
        var engine = Engine(ActorBreaker("id", "\n        circuitBreakerCacheSize: 2"));
        await engine.ForActor("Basket", "tripped").Invoking(p => p.ExecuteAsync(Fail, CancellationToken.None)).Should().ThrowAsync<InvalidOperationException>();
        await engine.ForActor("Basket", "tripped").Invoking(p => p.ExecuteAsync(_ => Task.FromResult(1), CancellationToken.None)).Should().ThrowAsync<CircuitOpenException>();

        for (var i = 0; i < 40; i++)
        {
            (await engine.ForActor("Basket", $"busy-{i}").ExecuteAsync(_ => Task.FromResult(1), CancellationToken.None)).Should().Be(1);
        }

        (await engine.ForActor("Basket", "tripped").ExecuteAsync(_ => Task.FromResult(7), CancellationToken.None))
            .Should().Be(7, "the least recently used breakers were dropped, the open one with them");
    }

    [Theory]
    [InlineData("circuitBreaker: cb", "spec.targets.actors.Basket.circuitBreakerScope", "is required")]
    [InlineData("circuitBreaker: cb\n        circuitBreakerScope: actor", "spec.targets.actors.Basket.circuitBreakerScope", "must be id, type or both")]
    [InlineData("circuitBreaker: cb\n        circuitBreakerScope: id\n        circuitBreakerCacheSize: 0", "spec.targets.actors.Basket.circuitBreakerCacheSize", "positive")]
    public void A_bad_actor_breaker_stops_the_start_naming_the_field(string target, string field, string problem)
    {
        var spec = $"""
              policies:
                circuitBreakers:
                  cb:
                    timeout: 10s
              targets:
                actors:
                  Basket:
                    {target}
            """;
        var load = () => Engine(spec);
        load.Should().Throw<SidecarStartupException>().Which.Message.Should().Contain(field).And.Contain(problem).And.Contain("resiliency.yaml");
    }

    [Fact]
    public async Task A_timeout_ends_an_attempt_whose_operation_ignores_the_cancellation()
    {
        var engine = Engine("""
              policies:
                timeouts:
                  quick: 100ms
              targets:
                components:
                  store:
                    outbound:
                      timeout: quick
            """, ("store", "state.in-memory"));
        var deaf = new TaskCompletionSource<int>();

        var attempt = engine.ForComponentOutbound("store").ExecuteAsync(_ => deaf.Task, CancellationToken.None);

        await attempt.WaitAsync(TimeSpan.FromSeconds(10)).Invoking(a => a).Should().ThrowAsync<ResiliencyTimeoutException>("as daprd's runner, the policy stops waiting at the deadline");
    }

    [Theory]
    [InlineData("httpStatusCodes", "500,600", "spec.policies.retries.r.matching.httpStatusCodes")]
    [InlineData("httpStatusCodes", "99", "spec.policies.retries.r.matching.httpStatusCodes")]
    [InlineData("gRPCStatusCodes", "14,17", "spec.policies.retries.r.matching.gRPCStatusCodes")]
    [InlineData("gRPCStatusCodes", "5-2", "spec.policies.retries.r.matching.gRPCStatusCodes")]
    public void A_retry_matching_a_code_outside_its_protocols_range_stops_the_start(string key, string codes, string field)
    {
        var load = () => Engine($"""
              policies:
                retries:
                  r:
                    matching:
                      {key}: "{codes}"
            """);
        load.Should().Throw<SidecarStartupException>().Which.Message.Should().Contain(field);
    }

    [Fact]
    public async Task A_zero_timeout_means_no_timeout_and_a_breaker_without_trip_opens_after_six_failures_as_in_daprd()
    {
        var engine = Engine("""
              policies:
                timeouts:
                  none: 0s
                circuitBreakers:
                  plain:
                    timeout: 10s
              targets:
                components:
                  store:
                    outbound:
                      timeout: none
                      circuitBreaker: plain
            """, ("store", "state.in-memory"));
        var policy = engine.ForComponentOutbound("store");

        (await policy.ExecuteAsync(async c => { await Task.Delay(50, c); return 1; }, CancellationToken.None)).Should().Be(1);
        for (var i = 0; i < 6; i++)
        {
            await policy.Invoking(p => p.ExecuteAsync(Fail, CancellationToken.None)).Should().ThrowAsync<InvalidOperationException>($"failure {i + 1} is let through");
        }
        await policy.Invoking(p => p.ExecuteAsync(_ => Task.FromResult(1), CancellationToken.None)).Should().ThrowAsync<CircuitOpenException>("consecutiveFailures > 5");
    }

    private static string ResiliencyFile(string name, string spec) => $"""
        apiVersion: dapr.io/v1alpha1
        kind: Resiliency
        metadata:
          name: {name}
        spec:
        {spec}
        """;

    [Fact]
    public async Task Resiliency_files_share_their_policies_and_the_last_file_naming_a_target_gives_its_whole_entry()
    {
        var folder = new ResourcesFolder()
            .WithComponent("store", "state.in-memory")
            .With("a-policies.yaml", ResiliencyFile("policies", """
                  policies:
                    timeouts:
                      quick: 100ms
                    retries:
                      twice:
                        policy: constant
                        duration: 10ms
                        maxRetries: 2
                  targets:
                    components:
                      store:
                        outbound:
                          timeout: quick
                          retry: twice
                """))
            .With("b-targets.yaml", ResiliencyFile("targets", """
                  targets:
                    components:
                      store:
                        outbound:
                          retry: twice
                """));
        _folders.Add(folder);
        var policy = new ResiliencyEngine(ResourceLoader.Load([folder.Path], null, "app"), _clock).ForComponentOutbound("store");

        var attempts = 0;
        await policy.Invoking(p => p.ExecuteAsync(_ => { attempts++; return Fail(default); }, CancellationToken.None)).Should().ThrowAsync<InvalidOperationException>();
        attempts.Should().Be(3, "the retry policy another file defines applies");
        (await policy.ExecuteAsync(async c => { await Task.Delay(300, c); return 1; }, CancellationToken.None))
            .Should().Be(1, "the later file's entry replaced the earlier one whole, its timeout with it");
    }

    [Fact]
    public void A_bare_number_in_a_policy_is_a_duration_in_milliseconds_as_daprd_reads_it()
    {
        var engine = Engine("""
              policies:
                timeouts:
                  quick: 250
                retries:
                  r:
                    policy: constant
                    duration: "40"
                    maxRetries: 1
              targets:
                components:
                  store:
                    outbound:
                      timeout: quick
                      retry: r
            """, ("store", "state.in-memory"));

        engine.ForComponentOutbound("store").Retry!.Duration.Should().Be(TimeSpan.FromMilliseconds(40));
        var timeouts = ResourceLoader.Load([_folders[^1].Path], null, "app").Resiliencies.Single().Timeouts;
        timeouts["quick"].Should().Be(TimeSpan.FromMilliseconds(250));
    }

    public void Dispose()
    {
        foreach (var folder in _folders)
        {
            folder.Dispose();
        }
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
