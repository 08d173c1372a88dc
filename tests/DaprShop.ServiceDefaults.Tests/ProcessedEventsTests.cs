using Dapr.Client;
using DaprShop.Testing;
using FluentAssertions;

namespace DaprShop.ServiceDefaults.Tests;

/// <summary>The two ways a subscriber handles an event's effect once, against a real sidecar's state store.</summary>
public sealed class ProcessedEventsTests : IAsyncLifetime
{
    private const string Store = "statestore";
    private readonly TestMesh _mesh = new();
    private readonly ResourcesFolder _resources = new();
    private SidecarProcess _sidecar = null!;
    private DaprClient _dapr = null!;

    public async Task InitializeAsync()
    {
        _resources.WithComponent(Store, "state.sqlite", ("connectionString", Path.Combine(_resources.Path, "state.db")));
        _sidecar = await SidecarProcess.StartAsync(new() { AppId = "subscriber", ResourcesPaths = [_resources.Path], MeshDirectory = _mesh.Directory });
        _dapr = _sidecar.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _dapr.Dispose();
        await _sidecar.DisposeAsync();
        _resources.Dispose();
        _mesh.Dispose();
    }

    private Task<bool> MarkedAsync(string handler, string eventId) => ProcessedEvents.AlreadyMarkedAsync(_dapr, Store, handler, eventId, CancellationToken.None);

    [Fact]
    public async Task At_least_once_marks_the_event_only_after_its_effect_so_a_crash_during_it_leaves_the_event_to_redeliver()
    {
        var runs = 0;
        bool? markedWhileRunning = null;

        var first = await ProcessedEvents.AtLeastOnceAsync(_dapr, Store, "mail", "evt-1", async () =>
        {
            runs++;
            markedWhileRunning = await MarkedAsync("mail", "evt-1");
        }, CancellationToken.None);
        var duplicate = await ProcessedEvents.AtLeastOnceAsync(_dapr, Store, "mail", "evt-1", () => { runs++; return Task.CompletedTask; }, CancellationToken.None);

        (first, duplicate, runs).Should().Be((true, false, 1));
        markedWhileRunning.Should().BeFalse("a crash while the effect runs must leave the event unmarked, so it is redelivered and done");
        (await MarkedAsync("mail", "evt-1")).Should().BeTrue();
    }

    [Fact]
    public async Task An_effect_that_fails_leaves_the_event_unmarked_either_way()
    {
        var failing = () => Task.FromException(new InvalidOperationException("binding down"));

        var atLeastOnce = () => ProcessedEvents.AtLeastOnceAsync(_dapr, Store, "mail", "evt-2", failing, CancellationToken.None);
        var once = () => ProcessedEvents.OnceAsync(_dapr, Store, "basket", "evt-2", failing, CancellationToken.None);

        await atLeastOnce.Should().ThrowAsync<InvalidOperationException>();
        await once.Should().ThrowAsync<InvalidOperationException>();
        (await MarkedAsync("mail", "evt-2")).Should().BeFalse();
        (await MarkedAsync("basket", "evt-2")).Should().BeFalse("once-only unmarks an effect that failed, so the redelivery tries again");
    }

    [Fact]
    public async Task Once_only_marks_the_event_before_its_effect_so_a_duplicate_arriving_meanwhile_is_skipped()
    {
        bool? markedWhileRunning = null;

        await ProcessedEvents.OnceAsync(_dapr, Store, "basket", "evt-3", async () => markedWhileRunning = await MarkedAsync("basket", "evt-3"), CancellationToken.None);
        var duplicate = await ProcessedEvents.OnceAsync(_dapr, Store, "basket", "evt-3", () => throw new InvalidOperationException("must not run"), CancellationToken.None);

        markedWhileRunning.Should().BeTrue();
        duplicate.Should().BeFalse();
    }
}
