using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapr;
using Dapr.AspNetCore;
using Dapr.Client;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace DaprShop.Sidecar.Tests.PubSub;

/// <summary>
/// Pub/sub semantics every broker must give, run against each broker component (<see cref="InMemoryPubSubTests"/>,
/// <see cref="RedisPubSubTests"/>): at-least-once delivery, the envelope, statuses, dead letters, routing, consumer
/// groups, bulk publish, scoping and errors.
/// </summary>
public abstract class PubSubTests
{
    protected sealed record Order(int Number, string Kind);

    /// <summary>A resources folder with a fresh, empty broker named <c>pubsub</c> that redelivers a failed message quickly.</summary>
    protected abstract ResourcesFolder Broker();

    private static string Resiliency(int maxRetries, string interval = "50ms") => $"""
        apiVersion: dapr.io/v1alpha1
        kind: Resiliency
        metadata:
          name: test-resiliency
        spec:
          policies:
            retries:
              fast:
                policy: constant
                duration: {interval}
                maxRetries: {maxRetries}
          targets:
            components:
              pubsub:
                inbound:
                  retry: fast
        """;

    [Fact]
    public async Task Every_message_arrives_even_when_the_handler_fails_on_purpose()
    {
        using var mesh = new TestMesh();
        using var resources = Broker();
        var attempts = 0;
        var delivered = new ConcurrentDictionary<int, int>();
        await using var app = await TestApp.StartAsync(a =>
        {
            a.UseCloudEvents();
            a.MapSubscribeHandler();
            a.MapPost("/orders", (Order order) =>
            {
                var n = Interlocked.Increment(ref attempts);
                // The first two deliveries and every fifth one fail, as in Dapr's conformance suite.
                if (n <= 2 || n % 5 == 0)
                {
                    return Results.StatusCode(500);
                }
                delivered.AddOrUpdate(order.Number, 1, (_, c) => c + 1);
                return Results.Ok();
            }).WithTopic("pubsub", "orders");
        }, s => s.AddDaprClient());
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "shop", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        using var client = sidecar.CreateClient();

        for (var i = 0; i < 30; i++)
        {
            await client.PublishEventAsync("pubsub", "orders", new Order(i, "book"));
        }

        await Eventually.HoldsAsync(() => delivered.Count == 30, "every order is delivered at least once");
        attempts.Should().BeGreaterThan(30, "failed deliveries were retried");
    }

    [Fact]
    public async Task The_envelope_carries_daprs_cloud_event_fields()
    {
        using var mesh = new TestMesh();
        using var resources = Broker();
        await using var app = await TestApp.StartAsync(a =>
        {
            a.MapGet("/dapr/subscribe", () => Results.Json(new[] { new { pubsubname = "pubsub", topic = "orders", route = "/orders" } }));
            a.MapPost("/orders", () => Results.Ok());
        });
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "publisher", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        using var http = sidecar.CreateHttpClient();

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1.0/publish/pubsub/orders")
        {
            Content = new StringContent("""{"number":7}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        (await http.SendAsync(request)).StatusCode.Should().Be(HttpStatusCode.NoContent);

        await Eventually.HoldsAsync(() => app.RequestsTo("/orders").Any(), "the event is delivered");
        var delivery = app.RequestsTo("/orders").Single();
        delivery.ContentType.Should().StartWith("application/cloudevents+json");
        delivery.Headers["pubsubname"].Should().Be("pubsub");
        var ce = JsonNode.Parse(delivery.Body)!.AsObject();
        Guid.TryParse(ce["id"]!.GetValue<string>(), out _).Should().BeTrue();
        ce["source"]!.GetValue<string>().Should().Be("publisher");
        ce["type"]!.GetValue<string>().Should().Be("com.dapr.event.sent");
        ce["specversion"]!.GetValue<string>().Should().Be("1.0");
        ce["datacontenttype"]!.GetValue<string>().Should().StartWith("application/json", "the publisher's content type is kept as sent");
        ce["topic"]!.GetValue<string>().Should().Be("orders");
        ce["pubsubname"]!.GetValue<string>().Should().Be("pubsub");
        ce["data"]!["number"]!.GetValue<int>().Should().Be(7);
        ce["traceparent"]!.GetValue<string>().Should().Contain("0af7651916cd43dd8448eb211c80319c");
        ce["traceid"]!.GetValue<string>().Should().Be(ce["traceparent"]!.GetValue<string>());
        DateTimeOffset.Parse(ce["time"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture).Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1));
        delivery.Headers["traceparent"].Should().Contain("0af7651916cd43dd8448eb211c80319c", "the delivery continues the publisher's trace");
    }

    [Fact]
    public async Task App_made_cloud_events_keep_their_fields_and_raw_payloads_arrive_unwrapped_in_data_base64()
    {
        using var mesh = new TestMesh();
        using var resources = Broker();
        await using var app = await TestApp.StartAsync(a =>
        {
            a.MapGet("/dapr/subscribe", () => Results.Json(new object[]
            {
                new { pubsubname = "pubsub", topic = "custom", route = "/custom" },
                new { pubsubname = "pubsub", topic = "raw", route = "/raw", metadata = new { rawPayload = "true" } },
            }));
            a.MapPost("/custom", () => Results.Ok());
            a.MapPost("/raw", () => Results.Ok());
        });
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "maker", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        using var http = sidecar.CreateHttpClient();

        var custom = new StringContent("""{"specversion":"1.0","id":"my-id","source":"my-source","type":"my.type","datacontenttype":"application/json","data":{"x":1}}""", Encoding.UTF8);
        custom.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/cloudevents+json");
        (await http.PostAsync("/v1.0/publish/pubsub/custom", custom)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        var raw = new ByteArrayContent([1, 2, 3, 250]);
        raw.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        (await http.PostAsync("/v1.0/publish/pubsub/raw?metadata.rawPayload=true", raw)).StatusCode.Should().Be(HttpStatusCode.NoContent);

        await Eventually.HoldsAsync(() => app.RequestsTo("/custom").Any() && app.RequestsTo("/raw").Any(), "both events are delivered");
        var ce = JsonNode.Parse(app.RequestsTo("/custom").Single().Body)!.AsObject();
        ce["id"]!.GetValue<string>().Should().Be("my-id");
        ce["source"]!.GetValue<string>().Should().Be("my-source");
        ce["type"]!.GetValue<string>().Should().Be("my.type");
        ce["topic"]!.GetValue<string>().Should().Be("custom");
        var wrapped = JsonNode.Parse(app.RequestsTo("/raw").Single().Body)!.AsObject();
        Convert.FromBase64String(wrapped["data_base64"]!.GetValue<string>()).Should().Equal(1, 2, 3, 250);
    }

    [Fact]
    public async Task Retry_is_redelivered_drop_is_not_and_goes_to_the_dead_letter_topic_with_404()
    {
        using var mesh = new TestMesh();
        using var resources = Broker();
        var retryCalls = 0;
        var dropCalls = 0;
        var missingCalls = 0;
        await using var app = await TestApp.StartAsync(a =>
        {
            a.MapGet("/dapr/subscribe", () => Results.Json(new object[]
            {
                new { pubsubname = "pubsub", topic = "retry", route = "/retry" },
                new { pubsubname = "pubsub", topic = "drop", route = "/drop", deadLetterTopic = "poison" },
                new { pubsubname = "pubsub", topic = "missing", route = "/not-here", deadLetterTopic = "poison" },
                new { pubsubname = "pubsub", topic = "poison", route = "/poison" },
            }));
            a.MapPost("/retry", () => Interlocked.Increment(ref retryCalls) < 3 ? Results.Json(new { status = "RETRY" }) : Results.Json(new { status = "SUCCESS" }));
            a.MapPost("/drop", () => { Interlocked.Increment(ref dropCalls); return Results.Json(new { status = "DROP" }); });
            a.MapPost("/not-here", () => { Interlocked.Increment(ref missingCalls); return Results.NotFound(); });
            a.MapPost("/poison", () => Results.Ok());
        });
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "statuses", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        using var client = sidecar.CreateClient();

        await client.PublishEventAsync("pubsub", "retry", new Order(1, "retry"));
        await client.PublishEventAsync("pubsub", "drop", new Order(2, "drop"));
        await client.PublishEventAsync("pubsub", "missing", new Order(3, "missing"));

        await Eventually.HoldsAsync(() => retryCalls == 3, "RETRY is redelivered until the app says SUCCESS");
        await Eventually.HoldsAsync(() => app.RequestsTo("/poison").Count() == 2, "the dropped and the unroutable message reach the dead-letter topic");
        await Task.Delay(500);
        dropCalls.Should().Be(1, "DROP is not redelivered");
        missingCalls.Should().Be(1, "a 404 is not redelivered");
        retryCalls.Should().Be(3, "SUCCESS ends redelivery");
        var poisoned = app.RequestsTo("/poison").Select(r => JsonNode.Parse(r.Body)!["data"]!["number"]!.GetValue<int>()).Order().ToList();
        poisoned.Should().Equal(2, 3);
    }

    [Fact]
    public async Task A_message_that_keeps_failing_goes_to_the_dead_letter_topic_once_retries_are_exhausted()
    {
        using var mesh = new TestMesh();
        using var resources = Broker().With("resiliency.yaml", Resiliency(maxRetries: 2));
        var calls = 0;
        await using var app = await TestApp.StartAsync(a =>
        {
            a.MapGet("/dapr/subscribe", () => Results.Json(new object[]
            {
                new { pubsubname = "pubsub", topic = "payments", route = "/payments", deadLetterTopic = "payments-dead" },
                new { pubsubname = "pubsub", topic = "payments-dead", route = "/dead" },
            }));
            a.MapPost("/payments", () => { Interlocked.Increment(ref calls); return Results.StatusCode(500); });
            a.MapPost("/dead", () => Results.Ok());
        });
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "payments", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        using var client = sidecar.CreateClient();

        await client.PublishEventAsync("pubsub", "payments", new Order(9, "charge"));

        await Eventually.HoldsAsync(() => app.RequestsTo("/dead").Any(), "the message reaches the dead-letter topic");
        calls.Should().Be(3, "one delivery and two retries, as the resiliency policy says");
        var dead = JsonNode.Parse(app.RequestsTo("/dead").Single().Body)!;
        dead["data"]!["number"]!.GetValue<int>().Should().Be(9);
        dead["topic"]!.GetValue<string>().Should().Be("payments", "daprd forwards the message as it came, so it names the topic it failed on");
    }

    [Fact]
    public async Task An_expired_message_goes_to_the_dead_letter_topic_unchanged_instead_of_to_the_handler_in_single_and_bulk_delivery()
    {
        using var mesh = new TestMesh();
        using var resources = Broker();
        await using var app = await TestApp.StartAsync(a =>
        {
            a.MapGet("/dapr/subscribe", () => Results.Json(new object[]
            {
                new { pubsubname = "pubsub", topic = "single", route = "/single", deadLetterTopic = "expired" },
                new { pubsubname = "pubsub", topic = "bulk", routes = new { @default = "/bulk" }, deadLetterTopic = "expired", bulkSubscribe = new { enabled = true, maxMessagesCount = 10, maxAwaitDurationMs = 100 } },
                // The dead letters keep their expiration, so (as with daprd) only a raw reader of that topic gets them.
                new { pubsubname = "pubsub", topic = "expired", route = "/expired", metadata = new { rawPayload = "true" } },
            }));
            a.MapPost("/single", () => Results.Ok());
            a.MapPost("/bulk", (JsonElement bulk) => Results.Json(new
            {
                statuses = bulk.GetProperty("entries").EnumerateArray().Select(e => new { entryId = e.GetProperty("entryId").GetString(), status = "SUCCESS" }),
            }));
            a.MapPost("/expired", () => Results.Ok());
        });
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "expiry", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        using var http = sidecar.CreateHttpClient();

        // Dapr checks a CloudEvent's `expiration` when it delivers, whoever set it (ttlInSeconds or the publishing app).
        var past = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("O");
        var future = DateTimeOffset.UtcNow.AddHours(1).ToString("O");
        foreach (var topic in new[] { "single", "bulk" })
        {
            foreach (var (id, expiration) in new[] { ($"{topic}-stale", past), ($"{topic}-fresh", future) })
            {
                var ce = new StringContent(new JsonObject
                {
                    ["specversion"] = "1.0", ["id"] = id, ["source"] = "maker", ["type"] = "t", ["expiration"] = expiration,
                    ["datacontenttype"] = "application/json", ["data"] = new JsonObject { ["x"] = 1 },
                }.ToJsonString(), Encoding.UTF8);
                ce.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/cloudevents+json");
                (await http.PostAsync($"/v1.0/publish/pubsub/{topic}", ce)).StatusCode.Should().Be(HttpStatusCode.NoContent);
            }
        }

        static string Id(JsonNode e) => e["id"]!.GetValue<string>();
        List<JsonNode> DeadLetters() => [.. app.RequestsTo("/expired").Select(r => DeadLetter(r.Body)).OrderBy(Id)];
        List<string> Delivered() => [.. app.RequestsTo("/single").Select(r => Id(JsonNode.Parse(r.Body)!))
            .Concat(app.RequestsTo("/bulk").SelectMany(r => JsonNode.Parse(r.Body)!["entries"]!.AsArray().Select(e => Id(e!["event"]!)))).Order()];
        await Eventually.HoldsAsync(() => DeadLetters().Count == 2 && Delivered().Count == 2, "each message ends at its handler or at the dead-letter topic");
        await Task.Delay(300);
        Delivered().Should().Equal(["bulk-fresh", "single-fresh"], "an expired message never reaches the subscription's handler");
        var dead = DeadLetters();
        dead.Select(Id).Should().Equal("bulk-stale", "single-stale");
        dead.Select(d => d["topic"]!.GetValue<string>()).Should().Equal(["bulk", "single"], "the dead letter is the message as it was on its own topic");
        dead.Should().OnlyContain(d => d["expiration"]!.GetValue<string>() == past);
    }

    /// <summary>The CloudEvent a raw-payload subscription received, unwrapped from its <c>data_base64</c>.</summary>
    protected static JsonNode DeadLetter(byte[] rawDelivery) =>
        JsonNode.Parse(Convert.FromBase64String(JsonNode.Parse(rawDelivery)!["data_base64"]!.GetValue<string>()))!;

    [Fact]
    public async Task Routing_rules_pick_the_first_matching_path_then_the_default()
    {
        using var mesh = new TestMesh();
        using var resources = Broker();
        await using var app = await TestApp.StartAsync(a =>
        {
            a.MapGet("/dapr/subscribe", () => Results.Json(new[]
            {
                new
                {
                    pubsubname = "pubsub", topic = "inventory",
                    routes = new
                    {
                        rules = new[]
                        {
                            new { match = "event.type == \"widget\"", path = "/widgets" },
                            new { match = "event.data.price > 100 && event.data.tags[0] == 'premium'", path = "/expensive" },
                        },
                        @default = "/other",
                    },
                },
            }));
            a.MapPost("/widgets", () => Results.Ok());
            a.MapPost("/expensive", () => Results.Ok());
            a.MapPost("/other", () => Results.Ok());
        });
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "router", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        using var client = sidecar.CreateClient();

        await client.PublishEventAsync("pubsub", "inventory", new { price = 5 }, new Dictionary<string, string> { ["cloudevent.type"] = "widget" });
        await client.PublishEventAsync("pubsub", "inventory", new { price = 500, tags = new[] { "premium" } });
        await client.PublishEventAsync("pubsub", "inventory", new { price = 500, tags = new[] { "basic" } });

        await Eventually.HoldsAsync(() => app.Requests.Count(r => r.Method == "POST") == 3, "all three events are delivered");
        app.RequestsTo("/widgets").Should().ContainSingle();
        app.RequestsTo("/expensive").Should().ContainSingle();
        app.RequestsTo("/other").Should().ContainSingle();
    }

    [Fact]
    public async Task Declarative_subscriptions_deliver_and_are_listed_in_the_metadata()
    {
        using var mesh = new TestMesh();
        using var resources = Broker().With("subscription.yaml", """
            apiVersion: dapr.io/v2alpha1
            kind: Subscription
            metadata:
              name: shipments
            spec:
              pubsubname: pubsub
              topic: shipments
              routes:
                default: /shipments
              deadLetterTopic: shipments-dead
            scopes:
            - logistics
            """);
        await using var app = await TestApp.StartAsync(a => a.MapPost("/shipments", () => Results.Ok()));
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "logistics", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        using var client = sidecar.CreateClient();

        await client.PublishEventAsync("pubsub", "shipments", new Order(4, "parcel"));

        await Eventually.HoldsAsync(() => app.RequestsTo("/shipments").Any(), "the declarative subscription delivers");
        using var http = sidecar.CreateHttpClient();
        var metadata = await http.GetFromJsonAsync<JsonElement>("/v1.0/metadata");
        var subscription = metadata.GetProperty("subscriptions").EnumerateArray().Should().ContainSingle().Subject;
        subscription.GetProperty("topic").GetString().Should().Be("shipments");
        subscription.GetProperty("deadLetterTopic").GetString().Should().Be("shipments-dead");
        subscription.GetProperty("type").GetString().Should().Be("DECLARATIVE");
    }

    [Fact]
    public async Task Each_subscribing_app_gets_one_copy_delivered_to_one_of_its_replicas()
    {
        using var mesh = new TestMesh();
        using var resources = Broker();
        static Action<WebApplication> Subscriber() => a =>
        {
            a.MapGet("/dapr/subscribe", () => Results.Json(new[] { new { pubsubname = "pubsub", topic = "orders", route = "/orders" } }));
            a.MapPost("/orders", () => Results.Ok());
        };
        await using var billing1 = await TestApp.StartAsync(Subscriber());
        await using var billing2 = await TestApp.StartAsync(Subscriber());
        await using var shipping = await SidecarProcessAndApp.StartAsync("shipping", resources, mesh, Subscriber());
        await using var b1 = await SidecarProcess.StartAsync(new() { AppId = "billing", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = billing1.Port });
        await using var b2 = await SidecarProcess.StartAsync(new() { AppId = "billing", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = billing2.Port });
        await using var publisher = await SidecarProcess.StartAsync(new() { AppId = "checkout", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var client = publisher.CreateClient();

        // One order at a time, each delivered before the next: how a broker spreads a burst over a group's replicas
        // is its own business (a stream hands a whole burst to whichever reader asks first), so the test asks only
        // that both replicas take part before long and that the group never gets an order twice.
        int Billed() => billing1.RequestsTo("/orders").Count() + billing2.RequestsTo("/orders").Count();
        var published = 0;
        while (published < 10 || (published < 60 && (!billing1.RequestsTo("/orders").Any() || !billing2.RequestsTo("/orders").Any())))
        {
            await client.PublishEventAsync("pubsub", "orders", new Order(published, "cross-app"));
            published++;
            await Eventually.HoldsAsync(() => Billed() == published, "billing gets each order");
        }

        await Eventually.HoldsAsync(() => shipping.App.RequestsTo("/orders").Count() == published, "shipping gets every order");
        await Task.Delay(300);
        Billed().Should().Be(published, "a consumer group gets one copy");
        shipping.App.RequestsTo("/orders").Should().HaveCount(published);
        billing1.RequestsTo("/orders").Should().NotBeEmpty("the replicas share the work");
        billing2.RequestsTo("/orders").Should().NotBeEmpty("the replicas share the work");
    }

    [Fact]
    public async Task Bulk_publish_delivers_every_entry()
    {
        using var mesh = new TestMesh();
        using var resources = Broker();
        await using var app = await TestApp.StartAsync(a =>
        {
            a.MapGet("/dapr/subscribe", () => Results.Json(new[] { new { pubsubname = "pubsub", topic = "bulk", route = "/bulk" } }));
            a.MapPost("/bulk", () => Results.Ok());
        });
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "bulker", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        using var client = sidecar.CreateClient();

        var response = await client.BulkPublishEventAsync("pubsub", "bulk", Enumerable.Range(0, 5).Select(i => new Order(i, "bulk")).ToList());

        response.FailedEntries.Should().BeEmpty();
        await Eventually.HoldsAsync(() => app.RequestsTo("/bulk").Count() == 5, "every bulk entry is delivered");
        var numbers = app.RequestsTo("/bulk").Select(r => JsonNode.Parse(r.Body)!["data"]!["number"]!.GetValue<int>()).Order();
        numbers.Should().Equal(0, 1, 2, 3, 4);
    }

    [Fact]
    public async Task A_bulk_subscription_gets_batches_in_daprs_envelope_and_each_entry_ends_by_its_own_status()
    {
        using var mesh = new TestMesh();
        using var resources = Broker();
        var seen = new ConcurrentDictionary<int, int>();
        var batchSizes = new ConcurrentQueue<int>();
        await using var app = await TestApp.StartAsync(a =>
        {
            a.MapGet("/dapr/subscribe", () => Results.Json(new[]
            {
                new { pubsubname = "pubsub", topic = "orders", routes = new { @default = "/orders-bulk" }, bulkSubscribe = new { enabled = true, maxMessagesCount = 10, maxAwaitDurationMs = 300 } },
            }));
            a.MapPost("/orders-bulk", (JsonElement bulk) =>
            {
                var entries = bulk.GetProperty("entries").EnumerateArray().ToList();
                batchSizes.Enqueue(entries.Count);
                var statuses = entries.Select(e =>
                {
                    var number = e.GetProperty("event").GetProperty("data").GetProperty("number").GetInt32();
                    var times = seen.AddOrUpdate(number, 1, (_, n) => n + 1);
                    // Multiples of five are refused once, seven is dropped, the rest succeed.
                    var status = number == 7 ? "DROP" : number % 5 == 0 && times == 1 ? "RETRY" : "SUCCESS";
                    return new { entryId = e.GetProperty("entryId").GetString(), status };
                });
                return Results.Json(new { statuses });
            });
        });
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "bulk-reader", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        using var client = sidecar.CreateClient();

        (await client.BulkPublishEventAsync("pubsub", "orders", Enumerable.Range(0, 20).Select(i => new Order(i, "bulk")).ToList())).FailedEntries.Should().BeEmpty();

        await Eventually.HoldsAsync(() => seen.Count == 20 && new[] { 0, 5, 10, 15 }.All(n => seen.GetValueOrDefault(n) == 2), "every entry arrives, and a RETRY entry once more");
        await Task.Delay(800);
        seen.Where(s => s.Key % 5 != 0).Should().OnlyContain(s => s.Value == 1, "SUCCESS and DROP end an entry; the other entries of its batch are not sent again");
        batchSizes.Should().OnlyContain(n => n >= 1 && n <= 10, "maxMessagesCount bounds a batch").And.Contain(n => n > 1, "messages that wait together go together");
        var first = JsonNode.Parse(app.RequestsTo("/orders-bulk").First().Body)!;
        first["type"]!.GetValue<string>().Should().Be("com.dapr.event.sent.bulk");
        first["topic"]!.GetValue<string>().Should().Be("orders");
        first["pubsubname"]!.GetValue<string>().Should().Be("pubsub");
        first["id"]!.GetValue<string>().Should().NotBeNullOrEmpty();
        var entry = first["entries"]![0]!;
        entry["entryId"]!.GetValue<string>().Should().NotBeNullOrEmpty();
        entry["contentType"]!.GetValue<string>().Should().Be("application/cloudevents+json");
        entry["event"]!["specversion"]!.GetValue<string>().Should().Be("1.0");
        entry["event"]!["source"]!.GetValue<string>().Should().Be("bulk-reader");
    }

    [Fact]
    public async Task The_sdks_bulk_subscribe_handler_reads_its_batches_and_its_answers_are_understood()
    {
        using var mesh = new TestMesh();
        using var resources = Broker();
        var seen = new ConcurrentDictionary<int, int>();
        await using var app = await TestApp.StartAsync(a =>
        {
            a.UseCloudEvents();
            a.MapSubscribeHandler();
            a.MapPost("/payments", (BulkSubscribeMessage<JsonElement> bulk) =>
            {
                var statuses = bulk.Entries.Select(e =>
                {
                    var number = e.Event.GetProperty("data").GetProperty("number").GetInt32();
                    seen.AddOrUpdate(number, 1, (_, n) => n + 1);
                    return new BulkSubscribeAppResponseEntry(e.EntryId, number == 3 ? BulkSubscribeAppResponseStatus.DROP : BulkSubscribeAppResponseStatus.SUCCESS);
                }).ToList();
                return Results.Ok(new BulkSubscribeAppResponse(statuses));
            }).WithTopic("pubsub", "payments").WithBulkSubscribe(new BulkSubscribeTopicOptions { TopicName = "payments", MaxMessagesCount = 5, MaxAwaitDurationMs = 200 });
        }, s => s.AddDaprClient());
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "sdk-bulk", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        using var client = sidecar.CreateClient();

        foreach (var i in Enumerable.Range(0, 8))
        {
            await client.PublishEventAsync("pubsub", "payments", new Order(i, "sdk"));
        }

        await Eventually.HoldsAsync(() => seen.Count == 8, "the SDK's handler gets every message");
        await Task.Delay(800);
        seen.Values.Should().OnlyContain(n => n == 1, "the SDK's SUCCESS and DROP answers settle each entry once");
        using var http = new HttpClient();
        var subscribe = await http.GetStringAsync($"http://127.0.0.1:{app.Port}/dapr/subscribe");
        JsonNode.Parse(subscribe)![0]!["bulkSubscribe"]!["enabled"]!.GetValue<bool>().Should().BeTrue("the SDK declared a bulk subscription");
    }

    [Fact]
    public async Task Topic_scoping_refuses_what_the_component_does_not_allow_with_err_pubsub_forbidden_and_skips_forbidden_subscriptions()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().WithComponent("pubsub", "pubsub.in-memory",
            ("publishingScopes", "scoped=orders;mute="),
            ("subscriptionScopes", "scoped=orders,audit"),
            ("allowedTopics", "orders,audit,payments,secrets"),
            ("protectedTopics", "secrets"));
        await using var app = await TestApp.StartAsync(a =>
        {
            a.MapGet("/dapr/subscribe", () => Results.Json(new[]
            {
                new { pubsubname = "pubsub", topic = "orders", route = "/orders" },
                new { pubsubname = "pubsub", topic = "payments", route = "/payments" },
            }));
            a.MapPost("/orders", () => Results.Ok());
            a.MapPost("/payments", () => Results.Ok());
        });
        await using var scoped = await SidecarProcess.StartAsync(new() { AppId = "scoped", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        await using var mute = await SidecarProcess.StartAsync(new() { AppId = "mute", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        await using var other = await SidecarProcess.StartAsync(new() { AppId = "other", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var http = scoped.CreateHttpClient();

        async Task<HttpStatusCode> PublishAsync(SidecarProcess sidecar, string topic)
        {
            using var client = sidecar.CreateHttpClient();
            using var response = await client.PostAsJsonAsync($"/v1.0/publish/pubsub/{topic}", new { a = 1 });
            if (response.StatusCode == HttpStatusCode.Forbidden)
            {
                var error = await response.Content.ReadFromJsonAsync<JsonElement>();
                error.GetProperty("errorCode").GetString().Should().Be("ERR_PUBSUB_FORBIDDEN");
                error.GetProperty("message").GetString().Should().Be($"topic {topic} is not allowed for app id {sidecar.AppId}");
            }
            return response.StatusCode;
        }

        (await PublishAsync(scoped, "orders")).Should().Be(HttpStatusCode.NoContent);
        (await PublishAsync(scoped, "payments")).Should().Be(HttpStatusCode.Forbidden, "a listed app publishes only the topics after its name");
        (await PublishAsync(mute, "orders")).Should().Be(HttpStatusCode.Forbidden, "a blank list denies every topic");
        (await PublishAsync(other, "payments")).Should().Be(HttpStatusCode.NoContent, "an app not listed may publish any allowed topic");
        (await PublishAsync(other, "shipments")).Should().Be(HttpStatusCode.Forbidden, "allowedTopics is the only set of topics");
        (await PublishAsync(other, "secrets")).Should().Be(HttpStatusCode.Forbidden, "a protected topic needs an explicit scope");

        using var grpc = other.CreateClient();
        var act = () => grpc.PublishEventAsync("pubsub", "shipments", new Order(1, "x"));
        (await act.Should().ThrowAsync<DaprException>()).Which.InnerException.Should().BeOfType<global::Grpc.Core.RpcException>()
            .Which.StatusCode.Should().Be(global::Grpc.Core.StatusCode.PermissionDenied);

        await Eventually.HoldsAsync(() => app.RequestsTo("/orders").Any(), "the allowed subscription is delivered");
        (await PublishAsync(other, "payments")).Should().Be(HttpStatusCode.NoContent);
        await Task.Delay(500);
        app.RequestsTo("/payments").Should().BeEmpty("the app may not subscribe to payments, so that subscription was skipped");
        var metadata = await http.GetFromJsonAsync<JsonElement>("/v1.0/metadata");
        metadata.GetProperty("subscriptions").EnumerateArray().Select(s => s.GetProperty("topic").GetString()).Should().Equal("orders");
    }

    [Fact]
    public async Task Publishing_to_an_unknown_pubsub_or_with_bad_metadata_is_refused_with_daprs_errors()
    {
        using var mesh = new TestMesh();
        using var resources = Broker();
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "errors", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var http = sidecar.CreateHttpClient();

        var unknown = await http.PostAsJsonAsync("/v1.0/publish/nope/orders", new { a = 1 });
        unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errorCode").GetString().Should().Be("ERR_PUBSUB_NOT_FOUND");

        var badRaw = await http.PostAsJsonAsync("/v1.0/publish/pubsub/orders?metadata.rawPayload=maybe", new { a = 1 });
        badRaw.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await badRaw.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errorCode").GetString().Should().Be("ERR_PUBSUB_REQUEST_METADATA");

        using var client = sidecar.CreateClient();
        var act = () => client.PublishEventAsync("nope", "orders", new Order(1, "x"));
        (await act.Should().ThrowAsync<DaprException>()).Which.InnerException.Should().BeOfType<global::Grpc.Core.RpcException>()
            .Which.StatusCode.Should().Be(global::Grpc.Core.StatusCode.InvalidArgument);
    }
}

/// <summary>A test app with its own sidecar.</summary>
internal sealed class SidecarProcessAndApp : IAsyncDisposable
{
    public required TestApp App { get; init; }
    public required SidecarProcess Sidecar { get; init; }

    public static async Task<SidecarProcessAndApp> StartAsync(string appId, ResourcesFolder resources, TestMesh mesh, Action<WebApplication> map)
    {
        var app = await TestApp.StartAsync(map);
        var sidecar = await SidecarProcess.StartAsync(new() { AppId = appId, ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        return new SidecarProcessAndApp { App = app, Sidecar = sidecar };
    }

    public async ValueTask DisposeAsync()
    {
        await Sidecar.DisposeAsync();
        await App.DisposeAsync();
    }
}
