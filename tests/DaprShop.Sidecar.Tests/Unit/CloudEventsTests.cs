using System.Text;
using System.Text.Json.Nodes;
using DaprShop.Sidecar.Runtime;
using FluentAssertions;

namespace DaprShop.Sidecar.Tests.Unit;

public sealed class CloudEventsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static JsonObject Envelope(byte[] data, string? contentType, Dictionary<string, string>? metadata = null) =>
        JsonNode.Parse(CloudEvents.Envelope("app", "pubsub", "topic", data, contentType, metadata ?? [], Now))!.AsObject();

    [Fact]
    public void Json_payloads_stay_json_text_stays_text_and_binary_goes_to_data_base64()
    {
        Envelope("""{"a":1}"""u8.ToArray(), "application/json")["data"]!["a"]!.GetValue<int>().Should().Be(1);
        Envelope("hello"u8.ToArray(), "text/plain")["data"]!.GetValue<string>().Should().Be("hello");
        Envelope("hello"u8.ToArray(), null)["datacontenttype"]!.GetValue<string>().Should().Be("text/plain");
        Envelope([0xff, 0x00], "application/octet-stream")["data_base64"]!.GetValue<string>().Should().Be(Convert.ToBase64String([0xff, 0x00]));
    }

    [Fact]
    public void Cloudevent_metadata_overrides_single_fields_and_ttl_sets_the_expiration()
    {
        var ce = Envelope("{}"u8.ToArray(), "application/json", new() { ["cloudevent.type"] = "widget", ["cloudevent.id"] = "fixed", ["ttlInSeconds"] = "60" });
        ce["type"]!.GetValue<string>().Should().Be("widget");
        ce["id"]!.GetValue<string>().Should().Be("fixed");
        DateTimeOffset.Parse(ce["expiration"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture).Should().Be(Now.AddSeconds(60));
    }

    [Fact]
    public void An_app_made_cloud_event_keeps_its_fields_but_gets_the_topic_and_pubsub()
    {
        var ce = Envelope(Encoding.UTF8.GetBytes("""{"specversion":"1.0","id":"x","source":"s","type":"t","topic":"wrong"}"""), "application/cloudevents+json");
        ce["id"]!.GetValue<string>().Should().Be("x");
        ce["source"]!.GetValue<string>().Should().Be("s");
        ce["topic"]!.GetValue<string>().Should().Be("topic");
        ce["pubsubname"]!.GetValue<string>().Should().Be("pubsub");
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("0")]
    [InlineData("-5")]
    public void A_ttl_that_is_not_a_positive_number_is_ignored_as_daprd_ignores_it(string ttl) =>
        Envelope("{}"u8.ToArray(), "application/json", new() { ["ttlInSeconds"] = ttl }).ContainsKey("expiration").Should().BeFalse();

    [Fact]
    public void A_cloud_event_content_type_with_a_non_object_body_is_refused()
    {
        var act = () => Envelope("[1]"u8.ToArray(), "application/cloudevents+json");
        var error = act.Should().Throw<DaprApiException>().Which;
        error.ErrorCode.Should().Be("ERR_PUBSUB_CLOUD_EVENTS_SER");
        error.Message.Should().Be("cannot create cloudevent", "daprd's message; the cause goes into the details");
        error.Details!.Reason.Should().Be("DAPR_PUBSUB_CLOUD_EVENT_CREATION");
        error.Details.Metadata.Should().ContainKey("error");
    }
}
