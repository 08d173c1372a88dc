using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Dapr.Client;
using FluentAssertions;
using Grpc.Core;

namespace DaprShop.Sidecar.Tests.State;

public abstract partial class StateConformanceTests
{
    // ---- ETags -------------------------------------------------------------------------------------------------

    [Fact]
    public async Task A_wrong_etag_fails_and_the_right_one_succeeds_and_changes_it()
    {
        var sidecar = await SidecarAsync();
        using var client = sidecar.CreateClient();
        var key = NewKey();
        await client.SaveStateAsync(Store, key, "v1"); // new keys need no ETag
        var (_, etag) = await client.GetStateAndETagAsync<string>(Store, key);
        etag.Should().NotBeNullOrEmpty();

        (await client.TrySaveStateAsync(Store, key, "v2", WrongETag(etag))).Should().BeFalse();
        (await client.GetStateAsync<string>(Store, key)).Should().Be("v1");

        (await client.TrySaveStateAsync(Store, key, "v2", etag)).Should().BeTrue();
        var (value, newETag) = await client.GetStateAndETagAsync<string>(Store, key);
        value.Should().Be("v2");
        newETag.Should().NotBeNullOrEmpty().And.NotBe(etag);

        (await client.TrySaveStateAsync(Store, key, "v3", etag)).Should().BeFalse("the old ETag is stale now");
        (await client.TryDeleteStateAsync(Store, key, etag)).Should().BeFalse();
        (await client.TryDeleteStateAsync(Store, key, newETag)).Should().BeTrue();
        (await client.GetStateAsync<string>(Store, key)).Should().BeNull();
    }

    [Fact]
    public async Task A_wrong_etag_is_409_over_http_for_save_and_delete()
    {
        var sidecar = await SidecarAsync();
        using var http = sidecar.CreateHttpClient();
        var key = NewKey();
        (await PostJsonAsync(http, $"/v1.0/state/{Store}", $$$"""[{"key":"{{{key}}}","value":"v"}]""")).Dispose();
        using var get = await http.GetAsync($"/v1.0/state/{Store}/{key}");
        var etag = get.Headers.GetValues("ETag").Single();

        using var save = await PostJsonAsync(http, $"/v1.0/state/{Store}", $$$"""[{"key":"{{{key}}}","value":"w","etag":"{{{WrongETag(etag)}}}"}]""");
        save.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await ErrorAsync(save)).Code.Should().Be("ERR_STATE_SAVE");

        using var delete = new HttpRequestMessage(HttpMethod.Delete, $"/v1.0/state/{Store}/{key}");
        delete.Headers.TryAddWithoutValidation("If-Match", WrongETag(etag));
        using var deleted = await http.SendAsync(delete);
        deleted.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await ErrorAsync(deleted)).Code.Should().Be("ERR_STATE_DELETE");

        using var ok = await PostJsonAsync(http, $"/v1.0/state/{Store}", $$$"""[{"key":"{{{key}}}","value":"w","etag":"{{{etag}}}"}]""");
        ok.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await GetJsonAsync(http, key)).Should().Be("\"w\"");
    }

    [Fact]
    public async Task An_etag_for_a_missing_key_is_a_mismatch()
    {
        var sidecar = await SidecarAsync();
        using var client = sidecar.CreateClient();
        var key = NewKey();
        await client.SaveStateAsync(Store, key, "x");
        var (_, etag) = await client.GetStateAndETagAsync<string>(Store, key);
        await client.DeleteStateAsync(Store, key);

        (await client.TrySaveStateAsync(Store, key, "y", etag)).Should().BeFalse();
        (await client.GetStateAsync<string>(Store, key)).Should().BeNull();
    }

    // ---- first-write -------------------------------------------------------------------------------------------

    private static readonly StateOptions FirstWrite = new() { Concurrency = ConcurrencyMode.FirstWrite };

    [Fact]
    public async Task First_write_creates_once_and_then_needs_the_current_etag()
    {
        var sidecar = await SidecarAsync();
        using var client = sidecar.CreateClient();
        var key = NewKey();

        await client.SaveStateAsync(Store, key, "first", FirstWrite);
        (await GrpcStatusOf(() => client.SaveStateAsync(Store, key, "second", FirstWrite))).Should().Be(StatusCode.Aborted);
        (await client.GetStateAsync<string>(Store, key)).Should().Be("first");

        var (_, etag) = await client.GetStateAndETagAsync<string>(Store, key);
        (await client.TrySaveStateAsync(Store, key, "second", etag, FirstWrite)).Should().BeTrue();
        (await client.TrySaveStateAsync(Store, key, "third", etag, FirstWrite)).Should().BeFalse("that ETag is stale");
        (await client.GetStateAsync<string>(Store, key)).Should().Be("second");
    }

    [Fact]
    public async Task An_empty_etag_counts_as_none()
    {
        var sidecar = await SidecarAsync();
        using var http = sidecar.CreateHttpClient();
        var (first, last) = (NewKey("fw"), NewKey("lw"));

        (await PostJsonAsync(http, $"/v1.0/state/{Store}", $$$"""[{"key":"{{{first}}}","value":1,"etag":"","options":{"concurrency":"first-write"}}]"""))
            .StatusCode.Should().Be(HttpStatusCode.NoContent, "first-write with no ETag creates");
        (await PostJsonAsync(http, $"/v1.0/state/{Store}", $$$"""[{"key":"{{{first}}}","value":2,"etag":"","options":{"concurrency":"first-write"}}]"""))
            .StatusCode.Should().Be(HttpStatusCode.Conflict, "first-write with no ETag does not overwrite");
        (await GetJsonAsync(http, first)).Should().Be("1");

        (await PostJsonAsync(http, $"/v1.0/state/{Store}", $$$"""[{"key":"{{{last}}}","value":1}]""")).Dispose();
        (await PostJsonAsync(http, $"/v1.0/state/{Store}", $$$"""[{"key":"{{{last}}}","value":2,"etag":""}]"""))
            .StatusCode.Should().Be(HttpStatusCode.NoContent, "last-write with no ETag overwrites");
        (await GetJsonAsync(http, last)).Should().Be("2");
    }

    // ---- TTL ---------------------------------------------------------------------------------------------------

    [Fact]
    public async Task A_ttl_that_is_not_a_number_is_a_500_save_error()
    {
        var sidecar = await SidecarAsync();
        using var http = sidecar.CreateHttpClient();
        var key = NewKey();

        using var response = await PostJsonAsync(http, $"/v1.0/state/{Store}", $$$"""[{"key":"{{{key}}}","value":1,"metadata":{"ttlInSeconds":"foo"}}]""");

        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await ErrorAsync(response)).Code.Should().Be("ERR_STATE_SAVE");
        (await http.GetAsync($"/v1.0/state/{Store}/{key}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task A_value_with_a_ttl_reports_its_expiry_and_then_expires()
    {
        var sidecar = await SidecarAsync();
        using var http = sidecar.CreateHttpClient();
        var key = NewKey();
        var before = DateTimeOffset.UtcNow;

        (await PostJsonAsync(http, $"/v1.0/state/{Store}", $$$"""[{"key":"{{{key}}}","value":"short","metadata":{"ttlInSeconds":"2"}}]""")).Dispose();

        using (var get = await http.GetAsync($"/v1.0/state/{Store}/{key}"))
        {
            get.StatusCode.Should().Be(HttpStatusCode.OK, "it has not expired yet");
            var expires = DateTimeOffset.Parse(get.Headers.GetValues("metadata.ttlExpireTime").Single(), CultureInfo.InvariantCulture);
            expires.Should().BeAfter(before.AddSeconds(1)).And.BeBefore(DateTimeOffset.UtcNow.AddSeconds(4));
        }
        using (var bulk = await PostJsonAsync(http, $"/v1.0/state/{Store}/bulk", $$$"""{"keys":["{{{key}}}"]}"""))
        {
            var item = JsonNode.Parse(await bulk.Content.ReadAsStringAsync())!.AsArray().Single()!;
            ((string?)item["metadata"]?["ttlExpireTime"]).Should().NotBeNullOrEmpty("bulk get reports the expiry too");
        }

        await PollAsync(async () => (await http.GetAsync($"/v1.0/state/{Store}/{key}")).StatusCode == HttpStatusCode.NoContent,
            TimeSpan.FromSeconds(8), "the value should expire about 2 s after it was saved");
        using var bulkAfter = await PostJsonAsync(http, $"/v1.0/state/{Store}/bulk", $$$"""{"keys":["{{{key}}}"]}""");
        JsonNode.Parse(await bulkAfter.Content.ReadAsStringAsync())!.AsArray().Single()!["data"].Should().BeNull();
    }

    [Fact]
    public async Task A_value_without_a_ttl_has_no_expiry_and_minus_one_removes_a_ttl()
    {
        var sidecar = await SidecarAsync();
        using var http = sidecar.CreateHttpClient();
        var (plain, ttl) = (NewKey("plain"), NewKey("ttl"));

        (await PostJsonAsync(http, $"/v1.0/state/{Store}", $$$"""[{"key":"{{{plain}}}","value":1},{"key":"{{{ttl}}}","value":2,"metadata":{"ttlInSeconds":"100"}}]""")).Dispose();
        (await http.GetAsync($"/v1.0/state/{Store}/{plain}")).Headers.Contains("metadata.ttlExpireTime").Should().BeFalse();
        (await http.GetAsync($"/v1.0/state/{Store}/{ttl}")).Headers.Contains("metadata.ttlExpireTime").Should().BeTrue();

        (await PostJsonAsync(http, $"/v1.0/state/{Store}", $$$"""[{"key":"{{{ttl}}}","value":3,"metadata":{"ttlInSeconds":"-1"}}]"""))
            .StatusCode.Should().Be(HttpStatusCode.NoContent);

        using var after = await http.GetAsync($"/v1.0/state/{Store}/{ttl}");
        after.StatusCode.Should().Be(HttpStatusCode.OK);
        after.Headers.Contains("metadata.ttlExpireTime").Should().BeFalse("-1 removes the TTL");
    }

    [Fact]
    public async Task The_sdk_saves_with_a_ttl_in_metadata_and_the_value_expires()
    {
        var sidecar = await SidecarAsync();
        using var client = sidecar.CreateClient();
        var key = NewKey();

        await client.SaveStateAsync(Store, key, new Widget("tmp", 1, []), metadata: new Dictionary<string, string> { ["ttlInSeconds"] = "1" });

        (await client.GetStateAsync<Widget>(Store, key)).Should().NotBeNull("it has not expired yet");
        await PollAsync(async () => await client.GetStateAsync<Widget>(Store, key) is null, TimeSpan.FromSeconds(8), "the value should expire");
    }

    // ---- bad input ---------------------------------------------------------------------------------------------

    [Fact]
    public async Task An_unknown_store_is_400_over_http_and_invalid_argument_over_grpc()
    {
        var sidecar = await SidecarAsync();
        using var http = sidecar.CreateHttpClient();
        using var client = sidecar.CreateClient();

        using var response = await http.GetAsync("/v1.0/state/nope/key");

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(response)).Code.Should().Be("ERR_STATE_STORE_NOT_FOUND");
        (await GrpcStatusOf(() => client.GetStateAsync<string>("nope", "key"))).Should().Be(StatusCode.InvalidArgument);
    }

    [Fact]
    public async Task Malformed_json_and_keys_with_the_separator_are_rejected()
    {
        var sidecar = await SidecarAsync();
        using var http = sidecar.CreateHttpClient();
        using var client = sidecar.CreateClient();

        using var malformed = await PostJsonAsync(http, $"/v1.0/state/{Store}", """[{"key":"a","value":""");
        malformed.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(malformed)).Code.Should().Be("ERR_MALFORMED_REQUEST");

        using var separator = await PostJsonAsync(http, $"/v1.0/state/{Store}", """[{"key":"a||b","value":1}]""");
        separator.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(separator)).Code.Should().Be("ERR_MALFORMED_REQUEST");
        (await GrpcStatusOf(() => client.SaveStateAsync(Store, "a||b", 1))).Should().Be(StatusCode.InvalidArgument);
    }
}
