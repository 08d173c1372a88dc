using System.Globalization;
using System.Net;
using System.Text;
using Dapr;
using Dapr.Client;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Grpc.Core;
using StackExchange.Redis;

namespace DaprShop.Sidecar.Tests.State;

/// <summary>The state conformance suite against <c>state.redis</c> on a real Redis server, plus daprd's layout of the keys.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisStateConformanceTests(ConformanceSidecar shared, RedisServer redis) : PersistentStateConformanceTests(shared)
{
    protected override Task<StoreSpec> NewStoreAsync() =>
        Task.FromResult(new StoreSpec("state.redis", ("redisHost", redis.Host), ("redisDB", redis.NewDatabase().ToString(CultureInfo.InvariantCulture))));

    /// <summary>Redis ETags are version numbers: a wrong one must still be a number, or it is "invalid", not "mismatched".</summary>
    protected override string WrongETag(string current) =>
        (long.Parse(current, CultureInfo.InvariantCulture) + 1000).ToString(CultureInfo.InvariantCulture);

    private async Task<T> WithDatabaseAsync<T>(StoreSpec store, Func<IDatabase, IServer, Task<T>> read)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync($"{redis.Host},allowAdmin=true");
        var db = int.Parse(store.Metadata.Single(m => m.Name == "redisDB").Value, CultureInfo.InvariantCulture);
        return await read(connection.GetDatabase(db), connection.GetServers()[0]);
    }

    protected override Task<IReadOnlyList<string>> RawKeysAsync(StoreSpec store) =>
        WithDatabaseAsync<IReadOnlyList<string>>(store, async (db, server) =>
        {
            var keys = new List<string>();
            await foreach (var key in server.KeysAsync(db.Database))
            {
                keys.Add(key!);
            }
            keys.Sort(StringComparer.Ordinal);
            return keys;
        });

    [Fact]
    public Task The_redis_store_does_not_answer_queries() => AssertQueryIsNotSupportedAsync();

    [Fact]
    public async Task Each_key_is_a_hash_of_data_and_version_as_daprd_stores_it_and_a_ttl_is_the_keys_expiry()
    {
        var store = await NewStoreAsync();
        var sidecar = await StartAsync("layout", store);
        using var client = sidecar.CreateClient();

        await client.SaveStateAsync(Store, "json", new Widget("w", 1, []));
        await client.SaveStateAsync(Store, "json", new Widget("w", 2, []));
        await client.SaveByteStateAsync(Store, "bytes", new byte[] { 0xff, 0x00, 0x10 });
        await client.SaveStateAsync(Store, "ttl", 5, metadata: new Dictionary<string, string> { ["ttlInSeconds"] = "600" });
        var (_, etag) = await client.GetStateAndETagAsync<Widget>(Store, "json");

        await WithDatabaseAsync(store, async (db, _) =>
        {
            var json = (await db.HashGetAllAsync("layout||json")).ToDictionary(e => (string)e.Name!, e => e.Value);
            json.Keys.Should().BeEquivalentTo("data", "version");
            ((string)json["data"]!).Should().Be("""{"name":"w","count":2,"tags":[]}""");
            ((string)json["version"]!).Should().Be("2").And.Be(etag, "the ETag is the hash's version");
            ((byte[])(await db.HashGetAsync("layout||bytes", "data"))!).Should().Equal(0xff, 0x00, 0x10);
            (await db.KeyTimeToLiveAsync("layout||json")).Should().BeNull();
            (await db.KeyTimeToLiveAsync("layout||ttl")).Should().BeCloseTo(TimeSpan.FromSeconds(600), TimeSpan.FromSeconds(30));
            return true;
        });
    }

    [Fact]
    public async Task A_value_daprd_wrote_is_read_with_its_version_as_etag()
    {
        var store = await NewStoreAsync();
        await WithDatabaseAsync(store, async (db, _) =>
        {
            await db.HashSetAsync("shared||order", [new("data", Encoding.UTF8.GetBytes("""{"id":"o-1"}""")), new("version", 7)]);
            return true;
        });
        var sidecar = await StartAsync("shared", store);
        using var client = sidecar.CreateClient();

        var (value, etag) = await client.GetStateAndETagAsync<Dictionary<string, string>>(Store, "order");

        value.Should().Equal(new Dictionary<string, string> { ["id"] = "o-1" });
        etag.Should().Be("7");
        (await client.TrySaveStateAsync(Store, "order", new Dictionary<string, string> { ["id"] = "o-2" }, "7")).Should().BeTrue();
        (await client.GetStateAndETagAsync<Dictionary<string, string>>(Store, "order")).etag.Should().Be("8");
    }

    [Fact]
    public Task An_etag_that_is_not_a_number_is_invalid_not_mismatched() => AssertAnEtagOutOfFormatIsInvalidAsync();

    [Fact]
    public async Task A_transaction_with_one_stale_etag_writes_nothing_at_all()
    {
        var sidecar = await SidecarAsync();
        using var client = sidecar.CreateClient();
        var (a, b) = (NewKey("a"), NewKey("b"));
        await client.SaveStateAsync(Store, a, "a0");
        await client.SaveStateAsync(Store, b, "b0");
        var (_, etagB) = await client.GetStateAndETagAsync<string>(Store, b);
        await client.SaveStateAsync(Store, b, "b1"); // etagB is stale now

        var act = () => client.ExecuteStateTransactionAsync(Store,
        [
            new StateTransactionRequest(a, Encoding.UTF8.GetBytes("\"a1\""), StateOperationType.Upsert),
            new StateTransactionRequest(b, Encoding.UTF8.GetBytes("\"b2\""), StateOperationType.Upsert, etagB),
        ]);

        await act.Should().ThrowAsync<DaprException>();
        (await client.GetStateAsync<string>(Store, a)).Should().Be("a0", "every ETag is checked before anything is written");
        (await client.GetStateAsync<string>(Store, b)).Should().Be("b1");
    }
}
