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
/// What only a broker outside the sidecar can give, on top of the common suite: messages wait for a subscriber whose
/// sidecar is down, and a delivery cut short by a killed sidecar is delivered again.
/// </summary>
public abstract class DurableBrokerPubSubTests : PubSubTests
{
    protected static Action<WebApplication> Subscriber(Func<IResult>? answer = null) => a =>
    {
        a.MapGet("/dapr/subscribe", () => Results.Json(new[] { new { pubsubname = "pubsub", topic = "orders", route = "/orders" } }));
        a.MapPost("/orders", () => answer?.Invoke() ?? Results.Ok());
    };

    /// <summary>
    /// Whether the broker expires a message with <c>ttlInSeconds</c> itself (daprd's RabbitMQ component sets the AMQP
    /// expiration), so that the sidecar never sees it, rather than the sidecar finding it expired on delivery.
    /// </summary>
    protected virtual bool ExpiresNatively => false;

    protected static List<int> Numbers(TestApp app) =>
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
    public async Task A_message_whose_ttl_ran_out_while_the_subscribers_sidecar_was_down_goes_to_the_dead_letter_topic()
    {
        using var mesh = new TestMesh();
        using var resources = Broker();
        await using var app = await TestApp.StartAsync(a =>
        {
            a.MapGet("/dapr/subscribe", () => Results.Json(new object[]
            {
                new { pubsubname = "pubsub", topic = "orders", route = "/orders", deadLetterTopic = "orders-expired" },
                new { pubsubname = "pubsub", topic = "orders-expired", route = "/expired", metadata = new { rawPayload = "true" } },
            }));
            a.MapPost("/orders", () => Results.Ok());
            a.MapPost("/expired", () => Results.Ok());
        });
        await using var publisher = await SidecarProcess.StartAsync(new() { AppId = "checkout", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var client = publisher.CreateClient();
        // Started once so that the broker knows the subscriber (its queue or consumer group), then killed.
        var first = await SidecarProcess.StartAsync(new() { AppId = "billing", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        first.Kill();

        await client.PublishEventAsync("pubsub", "orders", new Order(1, "short-lived"), new Dictionary<string, string> { ["ttlInSeconds"] = "1" });
        await client.PublishEventAsync("pubsub", "orders", new Order(2, "lasting"), new Dictionary<string, string> { ["ttlInSeconds"] = "3600" });
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        await using var second = await SidecarProcess.StartAsync(new() { AppId = "billing", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });

        if (ExpiresNatively)
        {
            await Eventually.HoldsAsync(() => Numbers(app).Count == 1, "the live order is delivered");
            await Task.Delay(500);
            Numbers(app).Should().Equal([2], "the expired order never reaches the handler");
            app.RequestsTo("/expired").Should().BeEmpty("the broker itself discarded the message when its TTL ran out");
            return;
        }
        await Eventually.HoldsAsync(() => Numbers(app).Count == 1 && app.RequestsTo("/expired").Any(), "the live order is delivered and the expired one dead-lettered");
        await Task.Delay(300);
        Numbers(app).Should().Equal([2], "the expired order never reaches the handler");
        var dead = DeadLetter(app.RequestsTo("/expired").Single().Body);
        dead["data"]!["number"]!.GetValue<int>().Should().Be(1);
        dead["topic"]!.GetValue<string>().Should().Be("orders");
        dead["expiration"]!.GetValue<string>().Should().NotBeNullOrEmpty("ttlInSeconds becomes the CloudEvent's expiration");
    }

    [Fact]
    public async Task A_delivery_cut_short_by_a_killed_sidecar_is_delivered_again_by_the_next_one()
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
}

/// <summary>
/// The suite on <c>pubsub.redis</c> (Redis Streams on a real server), with the durable brokers' checks and the
/// stream layout daprd uses.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisPubSubTests(RedisServer redis) : DurableBrokerPubSubTests
{
    protected override ResourcesFolder Broker() => Broker(redis.NewDatabase());

    private ResourcesFolder Broker(int database) =>
        new ResourcesFolder().WithComponent("pubsub", "pubsub.redis",
            ("redisHost", redis.Host), ("redisDB", database.ToString(CultureInfo.InvariantCulture)),
            ("redeliverInterval", "100ms"), ("processingTimeout", "500ms"));

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

/// <summary>
/// The suite on <c>pubsub.rabbitmq</c> (a real RabbitMQ node) configured as a deployment that must not lose messages
/// would be — durable exchange and queue kept while no one consumes, persistent messages, publisher confirms, failed
/// messages requeued — plus daprd's topology and its dead-letter exchange.
/// </summary>
[Collection(RabbitMqCollection.Name)]
public sealed class RabbitMqPubSubTests(RabbitMqServer rabbit) : DurableBrokerPubSubTests
{
    protected override bool ExpiresNatively => true;

    protected override ResourcesFolder Broker() => Broker(rabbit.NewVirtualHost(),
        ("durable", "true"), ("deletedWhenUnused", "false"), ("deliveryMode", "2"), ("publisherConfirm", "true"), ("requeueInFailure", "true"));

    private static ResourcesFolder Broker(string connectionString, params (string, string)[] metadata) =>
        new ResourcesFolder().WithComponent("pubsub", "pubsub.rabbitmq", [("connectionString", connectionString), .. metadata]);

    [Fact]
    public async Task A_topic_is_an_exchange_and_each_app_id_reads_its_own_queue_named_after_it()
    {
        var vhost = rabbit.NewVirtualHost();
        using var mesh = new TestMesh();
        using var resources = Broker(vhost, ("deletedWhenUnused", "false"));
        await using var billing = await SidecarProcessAndApp.StartAsync("billing", resources, mesh, Subscriber());
        await using var shipping = await SidecarProcessAndApp.StartAsync("shipping", resources, mesh, Subscriber());
        using var client = billing.Sidecar.CreateClient();

        await client.PublishEventAsync("pubsub", "orders", new Order(1, "fan-out"));

        await Eventually.HoldsAsync(() => Numbers(billing.App).Count == 1 && Numbers(shipping.App).Count == 1, "each app id gets its own copy");
        var factory = new RabbitMQ.Client.ConnectionFactory { Uri = new Uri(vhost) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.ExchangeDeclarePassiveAsync("orders"); // throws when it is not there
        (await channel.QueueDeclarePassiveAsync("billing-orders")).ConsumerCount.Should().Be(1);
        (await channel.QueueDeclarePassiveAsync("shipping-orders")).ConsumerCount.Should().Be(1);
    }

    [Fact]
    public async Task With_dead_lettering_on_a_message_the_app_keeps_failing_is_rejected_into_the_dead_letter_queue()
    {
        var vhost = rabbit.NewVirtualHost();
        using var mesh = new TestMesh();
        using var resources = Broker(vhost, ("enableDeadLetter", "true"), ("deletedWhenUnused", "false"));
        await using var failing = await SidecarProcessAndApp.StartAsync("billing", resources, mesh, Subscriber(() => Results.StatusCode(500)));
        using var client = failing.Sidecar.CreateClient();

        await client.PublishEventAsync("pubsub", "orders", new Order(13, "poison"));

        var factory = new RabbitMQ.Client.ConnectionFactory { Uri = new Uri(vhost) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await Eventually.HoldsAsync(async () => (await channel.QueueDeclarePassiveAsync("dlq-billing-orders")).MessageCount == 1,
            TimeSpan.FromSeconds(20), "the broker moved the rejected message to dlq-{queue}");
        var dead = await channel.BasicGetAsync("dlq-billing-orders", autoAck: true);
        JsonNode.Parse(dead!.Body.ToArray())!["data"]!["number"]!.GetValue<int>().Should().Be(13);
        Numbers(failing.App).Should().Equal([13], "requeueInFailure is off: the message was handed over once");
    }

    [Fact]
    public async Task An_option_this_sidecar_does_not_implement_stops_the_start_instead_of_being_ignored()
    {
        using var mesh = new TestMesh();
        using var resources = Broker(rabbit.NewVirtualHost(), ("queueType", "quorum"));

        var (code, output) = await SidecarProcess.RunToExitAsync(new() { AppId = "bad", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });

        code.Should().NotBe(0);
        output.Should().Contain("'pubsub'").And.Contain("queueType").And.Contain("not supported");
    }
}
