using System.Globalization;
using System.Text.Json.Nodes;
using Dapr.Client;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using StackExchange.Redis;

namespace DaprShop.Sidecar.Tests.PubSub;

public sealed class InMemoryPubSubTests : PubSubTests
{
    protected override ResourcesFolder Broker() =>
        new ResourcesFolder().WithComponent("pubsub", "pubsub.in-memory", ("redeliverInterval", "100ms"));
}

/// <summary>
/// The same suite on <c>pubsub.redis</c> (Redis Streams on a real server), plus what only a broker outside the
/// sidecar can give: messages wait for a subscriber whose sidecar is down, and a delivery cut short by a killed
/// sidecar is claimed again.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisPubSubTests(RedisServer redis) : PubSubTests
{
    protected override ResourcesFolder Broker() => Broker(redis.NewDatabase());

    private ResourcesFolder Broker(int database) =>
        new ResourcesFolder().WithComponent("pubsub", "pubsub.redis",
            ("redisHost", redis.Host), ("redisDB", database.ToString(CultureInfo.InvariantCulture)),
            ("redeliverInterval", "100ms"), ("processingTimeout", "500ms"));

    private static Action<WebApplication> Subscriber(Func<IResult>? answer = null) => a =>
    {
        a.MapGet("/dapr/subscribe", () => Results.Json(new[] { new { pubsubname = "pubsub", topic = "orders", route = "/orders" } }));
        a.MapPost("/orders", () => answer?.Invoke() ?? Results.Ok());
    };

    private static List<int> Numbers(TestApp app) =>
        app.RequestsTo("/orders").Select(r => JsonNode.Parse(r.Body)!["data"]!["number"]!.GetValue<int>()).Distinct().Order().ToList();

    [Fact]
    public async Task Messages_published_while_the_subscribers_sidecar_is_down_are_delivered_when_it_is_back()
    {
        using var mesh = new TestMesh();
        using var resources = Broker();
        await using var app = await TestApp.StartAsync(Subscriber());
        await using var publisher = await SidecarProcess.StartAsync(new() { AppId = "checkout", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var client = publisher.CreateClient();
        var first = await SidecarProcess.StartAsync(new() { AppId = "billing", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        await client.PublishEventAsync("pubsub", "orders", new Order(0, "before"));
        await Eventually.HoldsAsync(() => Numbers(app).Count == 1, "the running subscriber gets the first order");

        first.Kill(); // as kill -9
        for (var i = 1; i <= 5; i++)
        {
            await client.PublishEventAsync("pubsub", "orders", new Order(i, "while down"));
        }
        await Task.Delay(300);
        Numbers(app).Should().Equal([0], "nobody delivers while the subscriber's sidecar is down");
        await using var second = await SidecarProcess.StartAsync(new() { AppId = "billing", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });

        await Eventually.HoldsAsync(() => Numbers(app).Count == 6, "the orders published meanwhile waited in the stream");
        Numbers(app).Should().Equal(0, 1, 2, 3, 4, 5);
    }

    [Fact]
    public async Task A_delivery_cut_short_by_a_killed_sidecar_is_claimed_again_by_the_next_one()
    {
        using var mesh = new TestMesh();
        using var resources = Broker();
        var hold = new TaskCompletionSource();
        var calls = 0;
        await using var app = await TestApp.StartAsync(a =>
        {
            a.MapGet("/dapr/subscribe", () => Results.Json(new[] { new { pubsubname = "pubsub", topic = "orders", route = "/orders" } }));
            // The first delivery hangs until its sidecar is gone; later ones are answered at once.
            a.MapPost("/orders", async () =>
            {
                if (Interlocked.Increment(ref calls) == 1)
                {
                    await hold.Task;
                    return Results.StatusCode(500);
                }
                return Results.Ok();
            });
        });
        await using var publisher = await SidecarProcess.StartAsync(new() { AppId = "checkout", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var client = publisher.CreateClient();
        var first = await SidecarProcess.StartAsync(new() { AppId = "billing", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });

        await client.PublishEventAsync("pubsub", "orders", new Order(7, "in flight"));
        await Eventually.HoldsAsync(() => calls == 1, "the first delivery reached the app");
        first.Kill();
        hold.SetResult();
        await using var second = await SidecarProcess.StartAsync(new() { AppId = "billing", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });

        await Eventually.HoldsAsync(() => calls >= 2, "the unacknowledged message is delivered again");
        app.RequestsTo("/orders").Select(r => JsonNode.Parse(r.Body)!["data"]!["number"]!.GetValue<int>()).Should().AllBeEquivalentTo(7);
    }

    [Fact]
    public async Task A_topic_is_a_stream_whose_entries_carry_the_cloud_event_in_data_and_are_acknowledged_once_delivered()
    {
        var database = redis.NewDatabase();
        using var mesh = new TestMesh();
        using var resources = Broker(database);
        await using var both = await SidecarProcessAndApp.StartAsync("billing", resources, mesh, Subscriber());
        using var client = both.Sidecar.CreateClient();

        await client.PublishEventAsync("pubsub", "orders", new Order(3, "stream"), new Dictionary<string, string> { ["priority"] = "high" });
        await Eventually.HoldsAsync(() => Numbers(both.App).Count == 1, "the order is delivered");

        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Host);
        var db = connection.GetDatabase(database);
        var entry = (await db.StreamRangeAsync("orders")).Should().ContainSingle().Subject;
        var fields = entry.Values.ToDictionary(v => (string)v.Name!, v => (string)v.Value!);
        var ce = JsonNode.Parse(fields["data"])!;
        ce["specversion"]!.GetValue<string>().Should().Be("1.0");
        ce["source"]!.GetValue<string>().Should().Be("billing");
        ce["data"]!["number"]!.GetValue<int>().Should().Be(3);
        JsonNode.Parse(fields["metadata"])!["priority"]!.GetValue<string>().Should().Be("high");
        var group = (await db.StreamGroupInfoAsync("orders")).Should().ContainSingle().Subject;
        group.Name.Should().Be("billing", "the consumer group is the app id when consumerID is not set");
        await Eventually.HoldsAsync(async () => (await db.StreamPendingAsync("orders", "billing")).PendingMessageCount == 0, TimeSpan.FromSeconds(20), "the delivered entry is acknowledged");
    }

    [Fact]
    public async Task A_redis_component_without_a_host_or_with_a_cluster_type_stops_the_sidecar_naming_the_field()
    {
        using var noHost = new ResourcesFolder().WithComponent("pubsub", "pubsub.redis", ("consumerID", "x"));
        using var cluster = new ResourcesFolder().WithComponent("cache", "state.redis", ("redisHost", redis.Host), ("redisType", "cluster"));

        using var mesh = new TestMesh();
        var a = await SidecarProcess.RunToExitAsync(new() { AppId = "bad", ResourcesPaths = [noHost.Path], MeshDirectory = mesh.Directory });
        var b = await SidecarProcess.RunToExitAsync(new() { AppId = "bad", ResourcesPaths = [cluster.Path], MeshDirectory = mesh.Directory });

        a.ExitCode.Should().NotBe(0);
        a.Output.Should().Contain("'pubsub'").And.Contain("redisHost").And.Contain("required");
        b.ExitCode.Should().NotBe(0);
        b.Output.Should().Contain("'cache'").And.Contain("redisType");
    }
}
