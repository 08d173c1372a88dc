using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DaprShop.Sidecar.Tests.PubSub;

/// <summary>
/// Details of daprd's pub/sub that do not depend on the broker (run on the in-memory one): how the envelope is made,
/// how HTTP bulk publish reads its entries, how the app's answers and subscriptions are read.
/// </summary>
public sealed partial class PubSubFidelityTests
{
    private static ResourcesFolder Broker() =>
        new ResourcesFolder().WithComponent("pubsub", "pubsub.in-memory", ("redeliverInterval", "100ms"));

    private static Action<WebApplication> Subscriber(params object[] subscriptions) => a =>
    {
        a.MapGet("/dapr/subscribe", () => Results.Json(subscriptions));
        a.MapPost("/{**path}", () => Results.Ok());
    };

    private static async Task PublishAsync(HttpClient http, string url, byte[] body, string? contentType)
    {
        var content = new ByteArrayContent(body);
        if (contentType is not null)
        {
            content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        }
        (await http.PostAsync(url, content)).StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    private static JsonObject Event(TestApp app, string path, int index = 0) => JsonNode.Parse(app.RequestsTo(path).ElementAt(index).Body)!.AsObject();

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")]
    private static partial Regex Rfc3339Seconds();

    [Fact]
    public async Task The_payload_goes_where_daprd_puts_it_for_each_content_type()
    {
        using var mesh = new TestMesh();
        using var resources = Broker();
        await using var app = await TestApp.StartAsync(Subscriber(new { pubsubname = "pubsub", topic = "t", route = "/t" }));
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "kinds", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        using var http = sidecar.CreateHttpClient();

        await PublishAsync(http, "/v1.0/publish/pubsub/t?metadata.cloudevent.id=json", """{"a":1}"""u8.ToArray(), "application/json");
        await PublishAsync(http, "/v1.0/publish/pubsub/t?metadata.cloudevent.id=vendor", """{"a":1}"""u8.ToArray(), "application/vnd.shop+json");
        await PublishAsync(http, "/v1.0/publish/pubsub/t?metadata.cloudevent.id=text", "hello"u8.ToArray(), "text/plain");
        await PublishAsync(http, "/v1.0/publish/pubsub/t?metadata.cloudevent.id=binary", [1, 2, 250], "application/octet-stream");
        await PublishAsync(http, "/v1.0/publish/pubsub/t?metadata.cloudevent.id=empty", [], null);

        await Eventually.HoldsAsync(() => app.RequestsTo("/t").Count() == 5, "all five are delivered");
        var byId = app.RequestsTo("/t").Select(r => JsonNode.Parse(r.Body)!.AsObject()).ToDictionary(e => e["id"]!.GetValue<string>());
        byId["json"]["data"]!["a"]!.GetValue<int>().Should().Be(1, "only application/json is parsed");
        byId["vendor"]["data"]!.GetValue<string>().Should().Be("""{"a":1}""", "any other type is text");
        byId["text"]["data"]!.GetValue<string>().Should().Be("hello");
        Convert.FromBase64String(byId["binary"]["data_base64"]!.GetValue<string>()).Should().Equal(1, 2, 250);
        byId["empty"]["data"]!.GetValue<string>().Should().BeEmpty();
        byId["empty"]["datacontenttype"]!.GetValue<string>().Should().Be("text/plain");
        byId.Values.Should().OnlyContain(e => Rfc3339Seconds().IsMatch(e["time"]!.GetValue<string>()), "time is RFC 3339 to the second");
        byId.Values.Should().OnlyContain(e => e.ContainsKey("tracestate"));
    }

    [Fact]
    public async Task Only_id_source_type_and_trace_fields_can_be_overridden_and_never_on_an_app_made_cloud_event()
    {
        using var mesh = new TestMesh();
        using var resources = Broker();
        await using var app = await TestApp.StartAsync(Subscriber(new { pubsubname = "pubsub", topic = "t", route = "/t" }));
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "overrides", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        using var http = sidecar.CreateHttpClient();
        const string parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

        await PublishAsync(http, "/v1.0/publish/pubsub/t?metadata.cloudevent.id=mine&metadata.CloudEvent.Type=my.type&metadata.cloudevent.source=&metadata.cloudevent.topic=elsewhere&metadata.cloudevent.subject=s&metadata.cloudevent.traceid=" + parent,
            """{"n":1}"""u8.ToArray(), "application/json");
        await PublishAsync(http, "/v1.0/publish/pubsub/t?metadata.cloudevent.id=ignored",
            """{"specversion":"1.0","type":"app.type","data":{"n":2},"traceparent":"app-made"}"""u8.ToArray(), "application/cloudevents+json");

        await Eventually.HoldsAsync(() => app.RequestsTo("/t").Count() == 2, "both are delivered");
        var events = app.RequestsTo("/t").Select(r => JsonNode.Parse(r.Body)!.AsObject()).ToList();
        var wrapped = events.Single(e => e["data"]!["n"]!.GetValue<int>() == 1);
        wrapped["id"]!.GetValue<string>().Should().Be("mine");
        wrapped["type"]!.GetValue<string>().Should().Be("my.type", "the metadata key is read in any case");
        wrapped["source"]!.GetValue<string>().Should().Be("overrides", "an empty override keeps the default");
        wrapped["topic"]!.GetValue<string>().Should().Be("t", "the topic cannot be overridden");
        wrapped.ContainsKey("subject").Should().BeFalse();
        wrapped["traceparent"]!.GetValue<string>().Should().Be(parent, "an overridden traceid sets both trace fields");
        wrapped["traceid"]!.GetValue<string>().Should().Be(parent);
        var appMade = events.Single(e => e["data"]!["n"]!.GetValue<int>() == 2);
        appMade.ContainsKey("id").Should().BeFalse("daprd adds no id to an app-made CloudEvent, nor applies overrides to it");
        appMade["source"]!.GetValue<string>().Should().Be("Dapr");
        appMade["type"]!.GetValue<string>().Should().Be("app.type");
        appMade["traceparent"]!.GetValue<string>().Should().NotBe("app-made", "the sidecar's trace context replaces the app's");
        appMade["time"].Should().NotBeNull();
    }

    [Fact]
    public async Task Http_bulk_publish_reads_each_event_by_its_content_type_and_fills_in_request_metadata_only_where_an_entry_has_its_own()
    {
        using var mesh = new TestMesh();
        using var resources = Broker();
        await using var app = await TestApp.StartAsync(Subscriber(new { pubsubname = "pubsub", topic = "t", route = "/t" }));
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "bulk", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        using var http = sidecar.CreateHttpClient();

        using var published = await http.PutAsync("/v1.0-alpha1/publish/bulk/pubsub/t?metadata.ttlInSeconds=600", new StringContent("""
            [{"entryId":"1","event":"AQL6","contentType":"application/octet-stream"},
             {"entryId":"2","event":"plain words","contentType":"text/plain","metadata":{"cloudevent.id":"two"}},
             {"entryId":"3","event":{"n":3},"contentType":"application/json"}]
            """, Encoding.UTF8, "application/json"));

        published.StatusCode.Should().Be(HttpStatusCode.NoContent, "PUT is accepted as POST is");
        await Eventually.HoldsAsync(() => app.RequestsTo("/t").Count() == 3, "the three entries are delivered");
        var events = app.RequestsTo("/t").Select(r => JsonNode.Parse(r.Body)!.AsObject()).ToList();
        var binary = events.Single(e => e.ContainsKey("data_base64"));
        Convert.FromBase64String(binary["data_base64"]!.GetValue<string>()).Should().Equal(new byte[] { 1, 2, 250 }, "an octet-stream event is base64 text, decoded once");
        binary.ContainsKey("expiration").Should().BeFalse("an entry without metadata gets none of the request's");
        var text = events.Single(e => e["id"]!.GetValue<string>() == "two");
        text["data"]!.GetValue<string>().Should().Be("plain words");
        text["expiration"].Should().NotBeNull("an entry with metadata of its own gets the request's too");
        events.Single(e => e["data"] is JsonObject)["data"]!["n"]!.GetValue<int>().Should().Be(3);
    }

    private const string MarshalEvents = "error marshaling events to bytes for topic t pubsub pubsub. error: ";
    private const string UnmarshalRequest = "error when unmarshaling the request for topic t pubsub pubsub: ";

    [Theory]
    [InlineData("""[{"entryId":"1","event":{"n":1},"contentType":"text/plain"}]""", MarshalEvents)]
    [InlineData("""[{"entryId":"1","event":"x","contentType":"image/png"}]""", MarshalEvents)]
    [InlineData("""[{"entryId":"1","event":"not base64!","contentType":"application/octet-stream"}]""", MarshalEvents)]
    [InlineData("""[{"entryId":"1","event":"x"}]""", MarshalEvents)]
    [InlineData("""[{"entryId":"1","event":"a","contentType":"text/plain"},{"entryId":"1","event":"b","contentType":"text/plain"}]""", MarshalEvents)]
    [InlineData("""{"entries":[]}""", UnmarshalRequest)]
    public async Task A_bulk_entry_daprd_cannot_convert_is_refused_with_err_pubsub_events_ser(string body, string message)
    {
        using var mesh = new TestMesh();
        using var resources = Broker();
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "bulk-bad", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var http = sidecar.CreateHttpClient();

        using var response = await http.PostAsync("/v1.0-alpha1/publish/bulk/pubsub/t", new StringContent(body, Encoding.UTF8, "application/json"));
        using var unknown = await http.PostAsync("/v1.0-alpha1/publish/bulk/nope/t", new StringContent("not json", Encoding.UTF8, "application/json"));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        error.GetProperty("errorCode").GetString().Should().Be("ERR_PUBSUB_EVENTS_SER");
        error.GetProperty("message").GetString().Should().StartWith(message, "an entry daprd cannot convert is a marshal error, a body that is not a list an unmarshal error");
        (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errorCode").GetString().Should().Be("ERR_PUBSUB_NOT_FOUND", "the component is checked before the body");
    }

    [Fact]
    public async Task The_apps_status_is_read_with_the_key_in_any_case_and_the_value_exactly()
    {
        using var mesh = new TestMesh();
        using var resources = Broker();
        var calls = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        await using var app = await TestApp.StartAsync(a =>
        {
            a.MapGet("/dapr/subscribe", () => Results.Json(new object[]
            {
                new { pubsubname = "pubsub", topic = "upper-key", route = "/upper-key", deadLetterTopic = "dead" },
                new { pubsubname = "pubsub", topic = "lower-value", route = "/lower-value" },
                new { pubsubname = "pubsub", topic = "dead", route = "/dead" },
            }));
            a.MapPost("/upper-key", () => { calls.AddOrUpdate("upper-key", 1, (_, n) => n + 1); return Results.Json(new Dictionary<string, string> { ["Status"] = "DROP" }); });
            a.MapPost("/lower-value", () =>
                calls.AddOrUpdate("lower-value", 1, (_, n) => n + 1) == 1 ? Results.Json(new { status = "drop" }) : Results.Json(new { status = "SUCCESS" }));
            a.MapPost("/dead", () => Results.Ok());
        });
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "statuses", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        using var client = sidecar.CreateClient();

        await client.PublishEventAsync("pubsub", "upper-key", new { n = 1 });
        await client.PublishEventAsync("pubsub", "lower-value", new { n = 2 });

        await Eventually.HoldsAsync(() => app.RequestsTo("/dead").Any() && calls.GetValueOrDefault("lower-value") == 2, "each answer has been acted on");
        calls["upper-key"].Should().Be(1, "\"Status\":\"DROP\" drops the message (to its dead-letter topic)");
        calls["lower-value"].Should().Be(2, "\"drop\" is not a status daprd knows, so the message is retried");
    }

    [Fact]
    public async Task A_404_to_a_bulk_delivery_acknowledges_the_batch_without_dead_letters()
    {
        using var mesh = new TestMesh();
        using var resources = Broker();
        await using var app = await TestApp.StartAsync(a =>
        {
            a.MapGet("/dapr/subscribe", () => Results.Json(new object[]
            {
                new { pubsubname = "pubsub", topic = "orders", route = "/gone", deadLetterTopic = "dead", bulkSubscribe = new { enabled = true, maxMessagesCount = 5, maxAwaitDurationMs = 100 } },
                new { pubsubname = "pubsub", topic = "dead", route = "/dead" },
            }));
            a.MapPost("/gone", () => Results.NotFound());
            a.MapPost("/dead", () => Results.Ok());
        });
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "bulk-404", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        using var client = sidecar.CreateClient();

        await client.PublishEventAsync("pubsub", "orders", new { n = 1 });
        await client.PublishEventAsync("pubsub", "orders", new { n = 2 });

        await Eventually.HoldsAsync(() => app.RequestsTo("/gone").SelectMany(r => JsonNode.Parse(r.Body)!["entries"]!.AsArray()).Count() >= 2, "the batch is delivered");
        await Task.Delay(500);
        app.RequestsTo("/gone").SelectMany(r => JsonNode.Parse(r.Body)!["entries"]!.AsArray()).Should().HaveCount(2, "nothing is sent again");
        app.RequestsTo("/dead").Should().BeEmpty();
    }

    [Fact]
    public async Task Subscriptions_are_read_as_daprd_reads_them_empty_match_default_fallback_and_no_route()
    {
        using var mesh = new TestMesh();
        using var resources = Broker();
        await using var app = await TestApp.StartAsync(Subscriber(
            new { pubsubname = "pubsub", topic = "ruled", routes = new { rules = new[] { new { match = "event.type == 'never'", path = "/never" }, new { match = "", path = "/catch-all" } } } },
            new { pubsubname = "pubsub", topic = "fallback", route = "/route", routes = new { @default = "" } },
            new { pubsubname = "pubsub", topic = "nowhere" }));
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "parsing", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        using var client = sidecar.CreateClient();
        using var http = sidecar.CreateHttpClient();

        await client.PublishEventAsync("pubsub", "ruled", new { n = 1 });
        await client.PublishEventAsync("pubsub", "fallback", new { n = 2 });

        await Eventually.HoldsAsync(() => app.RequestsTo("/catch-all").Any() && app.RequestsTo("/route").Any(), "an empty match catches the message; an empty default falls back to route");
        var metadata = await http.GetFromJsonAsync<JsonElement>("/v1.0/metadata");
        metadata.GetProperty("subscriptions").EnumerateArray().Select(s => s.GetProperty("topic").GetString()).Should().NotContain("nowhere", "a subscription without a route is not made");
        var rules = metadata.GetProperty("subscriptions").EnumerateArray().Single(s => s.GetProperty("topic").GetString() == "ruled").GetProperty("rules");
        rules.ValueKind.Should().Be(JsonValueKind.Array, "daprd lists the rules flat");
        rules[0].GetProperty("match").GetString().Should().Be("event.type == 'never'");
        rules[1].TryGetProperty("match", out _).Should().BeFalse("an empty match is left out");
        rules[1].GetProperty("path").GetString().Should().Be("/catch-all");
    }

    [Fact]
    public async Task A_message_that_is_not_a_cloud_event_goes_to_the_dead_letter_topic_and_any_json_object_is_delivered_as_it_is()
    {
        using var mesh = new TestMesh();
        using var resources = Broker();
        await using var app = await TestApp.StartAsync(Subscriber(
            new { pubsubname = "pubsub", topic = "events", route = "/events", deadLetterTopic = "dead" },
            // Go's boolean forms count on a subscription as on a publish.
            new { pubsubname = "pubsub", topic = "dead", route = "/dead", metadata = new { rawPayload = "t" } }));
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "not-ce", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        using var http = sidecar.CreateHttpClient();

        await PublishAsync(http, "/v1.0/publish/pubsub/events?metadata.rawPayload=true", "plain text"u8.ToArray(), "text/plain");
        await PublishAsync(http, "/v1.0/publish/pubsub/events?metadata.rawPayload=1", """{"orderId":"o-1"}"""u8.ToArray(), "application/json");

        await Eventually.HoldsAsync(() => app.RequestsTo("/dead").Any() && app.RequestsTo("/events").Any(), "one is dead-lettered, the other delivered");
        Event(app, "/events")["orderId"]!.GetValue<string>().Should().Be("o-1", "a JSON object is taken as the CloudEvent, as it is");
        var dead = Event(app, "/dead");
        Encoding.UTF8.GetString(Convert.FromBase64String(dead["data_base64"]!.GetValue<string>())).Should().Be("plain text");
        dead["source"]!.GetValue<string>().Should().Be("Dapr");
    }
}
