using System.Net;
using Dapr.Client;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;

namespace DaprShop.Sidecar.Tests.State;

/// <summary>The checks only a persistent, shareable store (SQLite, PostgreSQL, Redis) can pass: durability, key prefixes on the stored keys, sharing.</summary>
public abstract class PersistentStateConformanceTests(ConformanceSidecar shared) : StateConformanceTests(shared), IDisposable
{
    private readonly List<IDisposable> _owned = [];

    /// <summary>The keys as stored, read straight from the database.</summary>
    protected abstract Task<IReadOnlyList<string>> RawKeysAsync(StoreSpec store);

    /// <summary>A sidecar of the test's own on <paramref name="store"/>, killed when the test ends.</summary>
    protected async Task<SidecarProcess> StartAsync(string appId, StoreSpec store)
    {
        var mesh = new TestMesh();
        var resources = new ResourcesFolder().WithComponent(Store, store.Type, store.Metadata);
        _owned.Add(mesh);
        _owned.Add(resources);
        var sidecar = await SidecarProcess.StartAsync(new() { AppId = appId, ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        _owned.Add(new Owned(sidecar));
        return sidecar;
    }

    [Fact]
    public async Task A_saved_value_survives_a_killed_sidecar()
    {
        var store = await NewStoreAsync();
        var first = await StartAsync("durable", store);
        string etag;
        using (var client = first.CreateClient())
        {
            await client.SaveStateAsync(Store, "order-1", new Widget("kept", 7, ["x"]));
            await client.ExecuteStateTransactionAsync(Store, [Upsert("order-2", "in a transaction"), Upsert("order-3", "deleted later")]);
            await client.DeleteStateAsync(Store, "order-3");
            (_, etag) = await client.GetStateAndETagAsync<Widget>(Store, "order-1");
        }

        first.Kill(); // as kill -9: no shutdown, no flush
        var second = await StartAsync("durable", store);

        using var again = second.CreateClient();
        var (value, etagAfter) = await again.GetStateAndETagAsync<Widget>(Store, "order-1");
        value.Should().BeEquivalentTo(new Widget("kept", 7, ["x"]));
        etagAfter.Should().Be(etag);
        (await again.GetStateAsync<string>(Store, "order-2")).Should().Be("in a transaction");
        (await again.GetStateAsync<string>(Store, "order-3")).Should().BeNull();
    }

    [Theory]
    [InlineData(null, "prefix-app||item")]
    [InlineData("appid", "prefix-app||item")]
    [InlineData("name", "store||item")]
    [InlineData("none", "item")]
    [InlineData("shop", "shop||item")]
    public async Task The_key_prefix_mode_decides_the_stored_key(string? mode, string stored)
    {
        var store = await NewStoreAsync();
        if (mode is not null)
        {
            store = store.With(("keyPrefix", mode));
        }
        var sidecar = await StartAsync("prefix-app", store);
        using var client = sidecar.CreateClient();

        await client.SaveStateAsync(Store, "item", 1);

        (await RawKeysAsync(store)).Should().Equal(stored);
        (await client.GetStateAsync<int>(Store, "item")).Should().Be(1);
    }

    [Fact]
    public async Task Two_app_ids_share_values_only_under_a_shared_prefix()
    {
        var isolated = await NewStoreAsync();
        var alpha = await StartAsync("alpha", isolated);
        var beta = await StartAsync("beta", isolated);
        using (var a = alpha.CreateClient())
        using (var b = beta.CreateClient())
        {
            await a.SaveStateAsync(Store, "cart", "alpha's");
            (await b.GetStateAsync<string>(Store, "cart")).Should().BeNull("app ids prefix keys by default");
            (await a.GetStateAsync<string>(Store, "cart")).Should().Be("alpha's");
        }

        var sharedStore = (await NewStoreAsync()).With(("keyPrefix", "name"));
        var gamma = await StartAsync("gamma", sharedStore);
        var delta = await StartAsync("delta", sharedStore);
        using var g = gamma.CreateClient();
        using var d = delta.CreateClient();
        await g.SaveStateAsync(Store, "cart", "shared");
        (await d.GetStateAsync<string>(Store, "cart")).Should().Be("shared");
        using var http = delta.CreateHttpClient();
        (await http.GetAsync($"/v1.0/state/{Store}/cart")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    public void Dispose()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }
        GC.SuppressFinalize(this);
    }

    private sealed class Owned(SidecarProcess sidecar) : IDisposable
    {
        public void Dispose() => sidecar.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
