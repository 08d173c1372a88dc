using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapr.Client;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using StackExchange.Redis;

namespace DaprShop.Sidecar.Tests.Locks;

/// <summary>Dapr's distributed lock API (alpha) on <c>lock.redis</c> (a real Redis server), through the SDK and plain HTTP.</summary>
[Collection(RedisCollection.Name)]
public sealed class LockTests(RedisServer redis)
{
    private (ResourcesFolder Resources, int Database) Store(params (string, string)[] metadata)
    {
        var database = redis.NewDatabase();
        return (new ResourcesFolder().WithComponent("lockstore", "lock.redis",
            [("redisHost", redis.Host), ("redisDB", database.ToString(CultureInfo.InvariantCulture)), .. metadata]), database);
    }

    [Fact]
    public async Task The_stores_outbound_breaker_opens_on_failing_lock_calls_and_then_refuses_them_without_reaching_redis()
    {
        var (resources, database) = Store();
        using var _ = resources;
        resources.WithResiliency("""
            policies:
              circuitBreakers:
                locks:
                  timeout: 60s
                  trip: consecutiveFailures >= 2
            targets:
              components:
                lockstore:
                  outbound:
                    circuitBreaker: locks
            """);
        // A key of the wrong type where the lock would be: Redis answers the unlock script with WRONGTYPE.
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Host);
        var db = connection.GetDatabase(database);
        await db.HashSetAsync("lock||locker||stock", "not", "a lock");
        using var mesh = new TestMesh();
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "locker", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var http = sidecar.CreateHttpClient();

        for (var i = 0; i < 2; i++)
        {
            using var failed = await http.PostAsJsonAsync("/v1.0-alpha1/unlock/lockstore", new { resourceId = "stock", lockOwner = "node-1" });
            (await failed.Content.ReadAsStringAsync()).Should().Contain("ERR_UNLOCK").And.Contain("WRONGTYPE");
        }
        using var refused = await http.PostAsJsonAsync("/v1.0-alpha1/lock/lockstore", new { resourceId = "other", lockOwner = "node-1", expiryInSeconds = 30 });

        refused.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await refused.Content.ReadAsStringAsync()).Should().Contain("ERR_TRY_LOCK").And.Contain("circuit breaker is open");
        (await db.KeyExistsAsync("lock||locker||other")).Should().BeFalse("the open breaker refused the call before it reached Redis");
    }

#pragma warning disable DAPR_DISTRIBUTEDLOCK // the SDK marks the lock API as for evaluation only
    [Fact]
    public async Task A_lock_has_one_owner_at_a_time_only_its_owner_releases_it_and_it_frees_itself_after_its_expiry()
    {
        var (resources, _) = Store();
        using var _ = resources;
        using var mesh = new TestMesh();
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "locker", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var client = sidecar.CreateClient();

        (await client.Lock("lockstore", "order-1", "worker-a", 60)).Success.Should().BeTrue();
        (await client.Lock("lockstore", "order-1", "worker-b", 60)).Success.Should().BeFalse("worker-a holds it");
        (await client.Unlock("lockstore", "order-1", "worker-b")).status.Should().Be(LockStatus.LockBelongsToOthers);
        (await client.Unlock("lockstore", "order-1", "worker-a")).status.Should().Be(LockStatus.Success);
        (await client.Unlock("lockstore", "order-1", "worker-a")).status.Should().Be(LockStatus.LockDoesNotExist);

        (await client.Lock("lockstore", "order-2", "worker-a", 1)).Success.Should().BeTrue();
        await Eventually.HoldsAsync(async () => (await client.Lock("lockstore", "order-2", "worker-b", 60)).Success, TimeSpan.FromSeconds(10), "the lock frees itself after its expiry");
    }
#pragma warning restore DAPR_DISTRIBUTEDLOCK

    [Fact]
    public async Task Over_http_the_lock_is_a_redis_key_prefixed_by_the_app_id_that_holds_its_owner()
    {
        var (resources, database) = Store();
        using var _ = resources;
        using var mesh = new TestMesh();
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "locker", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var http = sidecar.CreateHttpClient();

        using var locked = await http.PostAsJsonAsync("/v1.0-alpha1/lock/lockstore", new { resourceId = "stock", lockOwner = "node-1", expiryInSeconds = 30 });
        (await locked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("success").GetBoolean().Should().BeTrue();
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Host);
        var db = connection.GetDatabase(database);
        ((string?)await db.StringGetAsync("lock||locker||stock")).Should().Be("node-1");
        (await db.KeyTimeToLiveAsync("lock||locker||stock")).Should().BeCloseTo(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5));

        using var unlocked = await http.PostAsJsonAsync("/v1.0-alpha1/unlock/lockstore", new { resourceId = "stock", lockOwner = "node-1" });
        (await unlocked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetInt32().Should().Be(0);
        (await db.KeyExistsAsync("lock||locker||stock")).Should().BeFalse();
    }

    [Fact]
    public async Task Bad_requests_unknown_stores_and_a_sidecar_without_lock_stores_get_daprs_errors()
    {
        var (resources, _) = Store();
        using var _ = resources;
        using var none = new ResourcesFolder();
        using var mesh = new TestMesh();
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "locker", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        await using var bare = await SidecarProcess.StartAsync(new() { AppId = "bare", ResourcesPaths = [none.Path], MeshDirectory = mesh.Directory });
        using var http = sidecar.CreateHttpClient();
        using var bareHttp = bare.CreateHttpClient();

        async Task<(HttpStatusCode, string?)> Lock(HttpClient client, string store, object body)
        {
            using var response = await client.PostAsJsonAsync($"/v1.0-alpha1/lock/{store}", body);
            return (response.StatusCode, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errorCode").GetString());
        }

        (await Lock(http, "nope", new { resourceId = "r", lockOwner = "o", expiryInSeconds = 5 })).Should().Be((HttpStatusCode.BadRequest, "ERR_LOCK_STORE_NOT_FOUND"));
        (await Lock(http, "lockstore", new { resourceId = "", lockOwner = "o", expiryInSeconds = 5 })).Should().Be((HttpStatusCode.BadRequest, "ERR_MALFORMED_REQUEST"));
        (await Lock(http, "lockstore", new { resourceId = "r", lockOwner = "o", expiryInSeconds = 0 })).Should().Be((HttpStatusCode.BadRequest, "ERR_MALFORMED_REQUEST"));
        (await Lock(bareHttp, "lockstore", new { resourceId = "r", lockOwner = "o", expiryInSeconds = 5 })).Should().Be((HttpStatusCode.InternalServerError, "ERR_LOCK_STORE_NOT_CONFIGURED"));
    }
}
