using System.Globalization;
using System.Net.Http.Json;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapr;
using Dapr.Client;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using StackExchange.Redis;

namespace DaprShop.Sidecar.Tests.Configuration;

/// <summary>Dapr's configuration API on <c>configuration.redis</c> (a real Redis server), through the SDK and plain HTTP.</summary>
[Collection(RedisCollection.Name)]
public sealed class ConfigurationTests(RedisServer redis)
{
    private (ResourcesFolder Resources, int Database) Store()
    {
        var database = redis.NewDatabase();
        return (new ResourcesFolder().WithComponent("config", "configuration.redis",
            ("redisHost", redis.Host), ("redisDB", database.ToString(CultureInfo.InvariantCulture))), database);
    }

    private async Task<IDatabase> DatabaseAsync(int database) => (await ConnectionMultiplexer.ConnectAsync($"{redis.Host},allowAdmin=true")).GetDatabase(database);

    [Fact]
    public async Task The_stores_outbound_timeout_ends_a_get_that_redis_does_not_answer_in_time()
    {
        var (resources, database) = Store();
        using var _ = resources;
        resources.WithResiliency("""
            policies:
              timeouts:
                quick: 300ms
            targets:
              components:
                config:
                  outbound:
                    timeout: quick
            """);
        var db = await DatabaseAsync(database);
        await db.StringSetAsync("color", "blue||1");
        using var mesh = new TestMesh();
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "settings", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var http = sidecar.CreateHttpClient();
        (await http.GetStringAsync("/v1.0/configuration/config?key=color")).Should().Contain("blue");

        // Redis holds every client's commands for 3 s.
        await db.ExecuteAsync("CLIENT", "PAUSE", "3000", "ALL");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var late = await http.GetAsync("/v1.0/configuration/config?key=color");

        late.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await late.Content.ReadAsStringAsync()).Should().Contain("ERR_CONFIGURATION_GET").And.Contain("timeout");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2.5), "the policy ended the call, Redis did not answer it");
    }

    [Fact]
    public async Task Items_are_read_as_value_and_version_from_values_stored_as_value_bars_version()
    {
        var (resources, database) = Store();
        using var _ = resources;
        var db = await DatabaseAsync(database);
        await db.StringSetAsync("color", "blue||1");
        await db.StringSetAsync("size", "L");
        using var mesh = new TestMesh();
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "settings", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var client = sidecar.CreateClient();
        using var http = sidecar.CreateHttpClient();

        var items = (await client.GetConfiguration("config", ["color", "size", "missing"])).Items;
        using var viaHttp = JsonDocument.Parse(await http.GetStringAsync("/v1.0/configuration/config?key=color"));
        using var all = JsonDocument.Parse(await http.GetStringAsync("/v1.0-alpha1/configuration/config"));

        items.Keys.Should().BeEquivalentTo("color", "size");
        items["color"].Value.Should().Be("blue");
        items["color"].Version.Should().Be("1");
        items["size"].Value.Should().Be("L");
        items["size"].Version.Should().BeEmpty();
        viaHttp.RootElement.GetProperty("color").GetProperty("value").GetString().Should().Be("blue");
        viaHttp.RootElement.EnumerateObject().Should().ContainSingle();
        all.RootElement.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo("color", "size");
    }

    [Fact]
    public async Task A_grpc_subscription_streams_each_change_until_it_is_unsubscribed()
    {
        var (resources, database) = Store();
        using var _ = resources;
        var db = await DatabaseAsync(database);
        await db.StringSetAsync("feature", "off||1");
        using var mesh = new TestMesh();
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "settings", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var client = sidecar.CreateClient();

        var subscription = await client.SubscribeConfiguration("config", ["feature"]);
        var seen = new List<(string Value, string Version)>();
        var reading = Task.Run(async () =>
        {
            await foreach (var items in subscription.Source)
            {
                foreach (var (_, item) in items)
                {
                    lock (seen)
                    {
                        seen.Add((item.Value, item.Version));
                    }
                }
            }
        });
        await Eventually.HoldsAsync(() => !string.IsNullOrEmpty(subscription.Id), "the stream's first message names the subscription");
        await db.StringSetAsync("feature", "on||2");
        await db.StringSetAsync("other", "ignored||1");
        await Eventually.HoldsAsync(() => { lock (seen) { return seen.Contains(("on", "2")); } }, "the change arrives on the stream");

        (await client.UnsubscribeConfiguration("config", subscription.Id)).Ok.Should().BeTrue();
        await reading.WaitAsync(TimeSpan.FromSeconds(10)); // the stream ends with the unsubscribe
        lock (seen)
        {
            seen.Should().Equal([("on", "2")], "only the subscribed key, once");
        }
    }

    [Fact]
    public async Task An_http_subscription_posts_each_change_to_the_app_until_it_is_unsubscribed()
    {
        var (resources, database) = Store();
        using var _ = resources;
        var db = await DatabaseAsync(database);
        await using var app = await TestApp.StartAsync(a => a.MapPost("/configuration/config/{key}", () => Results.Ok()));
        using var mesh = new TestMesh();
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "settings", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        using var http = sidecar.CreateHttpClient();

        var id = JsonNode.Parse(await http.GetStringAsync("/v1.0/configuration/config/subscribe?key=limit"))!["id"]!.GetValue<string>();
        await db.StringSetAsync("limit", "10||7");
        await Eventually.HoldsAsync(() => app.RequestsTo("/configuration/config/limit").Any(), "the change is posted to the app");
        var update = JsonNode.Parse(app.RequestsTo("/configuration/config/limit").First().Body)!;
        update["id"]!.GetValue<string>().Should().Be(id);
        update["items"]!["limit"]!["value"]!.GetValue<string>().Should().Be("10");
        update["items"]!["limit"]!["version"]!.GetValue<string>().Should().Be("7");

        using var unsubscribed = await http.GetAsync($"/v1.0/configuration/config/{id}/unsubscribe");
        unsubscribed.StatusCode.Should().Be(HttpStatusCode.OK);
        await db.StringSetAsync("limit", "20||8");
        await Task.Delay(500);
        app.RequestsTo("/configuration/config/limit").Should().ContainSingle("nothing is posted after the unsubscribe");
        using var again = await http.GetAsync($"/v1.0/configuration/config/{id}/unsubscribe");
        again.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errorCode").GetString().Should().Be("ERR_CONFIGURATION_UNSUBSCRIBE");
    }

    [Fact]
    public async Task An_unknown_store_or_none_at_all_is_answered_with_daprs_errors()
    {
        var (resources, _) = Store();
        using var __ = resources;
        using var none = new ResourcesFolder();
        using var mesh = new TestMesh();
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "settings", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        await using var bare = await SidecarProcess.StartAsync(new() { AppId = "bare", ResourcesPaths = [none.Path], MeshDirectory = mesh.Directory });
        using var http = sidecar.CreateHttpClient();
        using var bareHttp = bare.CreateHttpClient();
        using var client = sidecar.CreateClient();

        using var unknown = await http.GetAsync("/v1.0/configuration/nope?key=a");
        using var notConfigured = await bareHttp.GetAsync("/v1.0/configuration/config?key=a");

        unknown.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errorCode").GetString().Should().Be("ERR_CONFIGURATION_STORE_NOT_FOUND");
        notConfigured.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await notConfigured.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errorCode").GetString().Should().Be("ERR_CONFIGURATION_STORE_NOT_CONFIGURED");
        var thrown = await ((Func<Task>)(() => client.GetConfiguration("nope", ["a"]))).Should().ThrowAsync<DaprException>();
        thrown.Which.InnerException.Should().BeOfType<RpcException>().Which.StatusCode.Should().Be(StatusCode.InvalidArgument);
    }
}
