using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapr;
using Dapr.Client;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Grpc.Core;

namespace DaprShop.Sidecar.Tests.State;

/// <summary>
/// Dapr's state conformance checks (after components-contrib's suite), run against every store kind through a real
/// sidecar, with the official SDK over gRPC and with plain HTTP. Subclasses say how to make a fresh store.
/// </summary>
public abstract partial class StateConformanceTests(ConformanceSidecar shared) : IClassFixture<ConformanceSidecar>
{
    protected const string Store = "store";

    protected ConformanceSidecar Shared { get; } = shared;

    /// <summary>Component settings for a new, empty store of this kind.</summary>
    protected abstract Task<StoreSpec> NewStoreAsync();

    /// <summary>An ETag in this store's format that is not the current one.</summary>
    protected virtual string WrongETag(string current) => Guid.NewGuid().ToString();

    protected Task<SidecarProcess> SidecarAsync() => Shared.GetAsync(NewStoreAsync);

    protected static string NewKey(string what = "k") => $"{what}-{Guid.NewGuid():N}";

    public sealed record Widget(string Name, int Count, string[] Tags);

    // ---- round trips -------------------------------------------------------------------------------------------

    [Fact]
    public async Task The_sdk_round_trips_ints_bools_strings_bytes_and_records_with_an_etag_each()
    {
        var sidecar = await SidecarAsync();
        using var client = sidecar.CreateClient();
        var keys = Enumerable.Range(0, 5).Select(i => NewKey($"kind{i}")).ToArray();

        await client.SaveStateAsync(Store, keys[0], 42);
        await client.SaveStateAsync(Store, keys[1], true);
        await client.SaveStateAsync(Store, keys[2], "hello \"world\" ✓");
        await client.SaveStateAsync(Store, keys[3], new byte[] { 0, 1, 2, 255 });
        await client.SaveStateAsync(Store, keys[4], new Widget("bolt", 3, ["a", "b"]));

        (await client.GetStateAsync<int>(Store, keys[0])).Should().Be(42);
        (await client.GetStateAsync<bool>(Store, keys[1])).Should().BeTrue();
        (await client.GetStateAsync<string>(Store, keys[2])).Should().Be("hello \"world\" ✓");
        (await client.GetStateAsync<byte[]>(Store, keys[3])).Should().Equal(0, 1, 2, 255);
        var (widget, etag) = await client.GetStateAndETagAsync<Widget>(Store, keys[4]);
        widget.Should().BeEquivalentTo(new Widget("bolt", 3, ["a", "b"]));
        etag.Should().NotBeNullOrEmpty();
        foreach (var key in keys[..4])
        {
            (await client.GetStateAndETagAsync<JsonElement>(Store, key)).etag.Should().NotBeNullOrEmpty($"every get returns an ETag ({key})");
        }
    }

    [Fact]
    public async Task Raw_bytes_that_are_not_json_read_back_identically()
    {
        var sidecar = await SidecarAsync();
        using var client = sidecar.CreateClient();
        var key = NewKey();
        byte[] bytes = [0xff, 0x00, 0xfe, (byte)'{', 0x80, 0x01];

        await client.SaveByteStateAsync(Store, key, bytes);

        (await client.GetByteStateAsync(Store, key)).ToArray().Should().Equal(bytes);
        using var http = sidecar.CreateHttpClient();
        using var response = await http.GetAsync($"/v1.0/state/{Store}/{key}");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsByteArrayAsync()).Should().Equal(bytes);
    }

    [Fact]
    public async Task Http_round_trips_json_strings_objects_and_numbers()
    {
        var sidecar = await SidecarAsync();
        using var http = sidecar.CreateHttpClient();
        var (s, o, n) = (NewKey("s"), NewKey("o"), NewKey("n"));

        using var save = await PostJsonAsync(http, $"/v1.0/state/{Store}",
            $$$"""[{"key":"{{{s}}}","value":"plain text"},{"key":"{{{o}}}","value":{"name":"nut","size":{"mm":5},"tags":["x"]}},{"key":"{{{n}}}","value":12.5}]""");
        save.StatusCode.Should().Be(HttpStatusCode.NoContent, await save.Content.ReadAsStringAsync());

        (await GetJsonAsync(http, s)).Should().Be("\"plain text\"");
        JsonNode.DeepEquals(JsonNode.Parse(await GetJsonAsync(http, o)), JsonNode.Parse("""{"name":"nut","size":{"mm":5},"tags":["x"]}""")).Should().BeTrue();
        decimal.Parse(await GetJsonAsync(http, n), System.Globalization.CultureInfo.InvariantCulture).Should().Be(12.5m);
        using var response = await http.GetAsync($"/v1.0/state/{Store}/{o}");
        // daprd sends the ETag unquoted, so HttpClient's typed ETag header cannot parse it: read the raw value.
        response.Headers.GetValues("ETag").Single().Should().NotBeNullOrEmpty();
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
    }

    [Fact]
    public async Task A_missing_key_reads_as_204_over_http_and_default_over_the_sdk()
    {
        var sidecar = await SidecarAsync();
        using var http = sidecar.CreateHttpClient();
        using var client = sidecar.CreateClient();
        var key = NewKey();

        using var response = await http.GetAsync($"/v1.0/state/{Store}/{key}");

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await client.GetStateAsync<Widget>(Store, key)).Should().BeNull();
        var (value, etag) = await client.GetStateAndETagAsync<Widget>(Store, key);
        value.Should().BeNull();
        etag.Should().BeNullOrEmpty();
    }

    [Fact]
    public async Task Delete_removes_a_value_and_deleting_a_missing_key_succeeds()
    {
        var sidecar = await SidecarAsync();
        using var client = sidecar.CreateClient();
        using var http = sidecar.CreateHttpClient();
        var key = NewKey();
        await client.SaveStateAsync(Store, key, "v");

        await client.DeleteStateAsync(Store, key);

        (await client.GetStateAsync<string>(Store, key)).Should().BeNull();
        await client.DeleteStateAsync(Store, key); // again: nothing there, still fine
        using var response = await http.DeleteAsync($"/v1.0/state/{Store}/{NewKey()}");
        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    // ---- bulk --------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Bulk_save_get_and_delete_work_through_the_sdk()
    {
        var sidecar = await SidecarAsync();
        using var client = sidecar.CreateClient();
        var keys = Enumerable.Range(0, 4).Select(i => NewKey($"bulk{i}")).ToList();

        await client.SaveBulkStateAsync(Store, keys.Select((k, i) => new SaveStateItem<Widget>(k, new Widget(k, i, []), "")).ToList());
        var missing = NewKey("missing");
        var items = await client.GetBulkStateAsync<Widget>(Store, [.. keys, missing], parallelism: 2);

        items.Should().HaveCount(5);
        foreach (var (key, i) in keys.Select((k, i) => (k, i)))
        {
            var item = items.Single(x => x.Key == key);
            item.Value.Should().BeEquivalentTo(new Widget(key, i, []));
            item.ETag.Should().NotBeNullOrEmpty();
        }
        items.Single(x => x.Key == missing).Value.Should().BeNull();

        await client.DeleteBulkStateAsync(Store, keys.Take(3).Select(k => new BulkDeleteStateItem(k, "")).ToList());
        var after = await client.GetBulkStateAsync(Store, keys, parallelism: null);
        after.Where(x => !string.IsNullOrEmpty(x.Value)).Select(x => x.Key).Should().Equal(keys[3]);
    }

    [Fact]
    public async Task Bulk_get_over_http_returns_data_and_etags_and_marks_missing_keys()
    {
        var sidecar = await SidecarAsync();
        using var http = sidecar.CreateHttpClient();
        var (a, b) = (NewKey("a"), NewKey("b"));
        (await PostJsonAsync(http, $"/v1.0/state/{Store}", $$$"""[{"key":"{{{a}}}","value":{"n":1}}]""")).Dispose();

        using var response = await PostJsonAsync(http, $"/v1.0/state/{Store}/bulk", $$$"""{"keys":["{{{a}}}","{{{b}}}"]}""");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var items = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
        var first = items.Single(i => (string?)i!["key"] == a)!;
        JsonNode.DeepEquals(first["data"], JsonNode.Parse("""{"n":1}""")).Should().BeTrue();
        ((string?)first["etag"]).Should().NotBeNullOrEmpty();
        var second = items.Single(i => (string?)i!["key"] == b)!;
        second["data"].Should().BeNull();
        second["etag"].Should().BeNull();
    }

    [Fact]
    public async Task A_bulk_save_with_one_bad_etag_saves_the_others_and_names_the_failed_key()
    {
        var sidecar = await SidecarAsync();
        using var http = sidecar.CreateHttpClient();
        using var client = sidecar.CreateClient();
        var (guarded, free) = (NewKey("guarded"), NewKey("free"));
        await client.SaveStateAsync(Store, guarded, "original");
        var (_, etag) = await client.GetStateAndETagAsync<string>(Store, guarded);

        using var response = await PostJsonAsync(http, $"/v1.0/state/{Store}",
            $$$"""[{"key":"{{{guarded}}}","value":"changed","etag":"{{{WrongETag(etag)}}}"},{"key":"{{{free}}}","value":"saved"}]""");

        response.StatusCode.Should().Be(HttpStatusCode.Conflict);
        var error = await ErrorAsync(response);
        error.Code.Should().Be("ERR_STATE_SAVE");
        error.Message.Should().Contain(guarded);
        (await client.GetStateAsync<string>(Store, free)).Should().Be("saved");
        (await client.GetStateAsync<string>(Store, guarded)).Should().Be("original");
    }

    // ---- transactions ------------------------------------------------------------------------------------------

    [Fact]
    public async Task A_transaction_applies_upserts_and_deletes_of_the_same_key_in_order()
    {
        var sidecar = await SidecarAsync();
        using var client = sidecar.CreateClient();
        var (k1, k2, gone) = (NewKey("t1"), NewKey("t2"), NewKey("gone"));

        await client.ExecuteStateTransactionAsync(Store,
        [
            Upsert(k1, "first"),
            new StateTransactionRequest(k1, null, StateOperationType.Delete),
            Upsert(k1, "second"),
            Upsert(k2, "other"),
            new StateTransactionRequest(gone, null, StateOperationType.Delete), // deleting a missing key succeeds
        ]);

        (await client.GetStateAsync<string>(Store, k1)).Should().Be("second");
        (await client.GetStateAsync<string>(Store, k2)).Should().Be("other");
        (await client.GetStateAsync<string>(Store, gone)).Should().BeNull();

        await client.ExecuteStateTransactionAsync(Store, [Upsert(k2, "third"), new StateTransactionRequest(k2, null, StateOperationType.Delete)]);
        (await client.GetStateAsync<string>(Store, k2)).Should().BeNull("the delete came after the upsert");
    }

    [Fact]
    public async Task A_transaction_with_one_bad_etag_writes_nothing()
    {
        var sidecar = await SidecarAsync();
        using var client = sidecar.CreateClient();
        using var http = sidecar.CreateHttpClient();
        var (existing, fresh) = (NewKey("existing"), NewKey("fresh"));
        await client.SaveStateAsync(Store, existing, "before");
        var (_, etag) = await client.GetStateAndETagAsync<string>(Store, existing);

        var act = () => client.ExecuteStateTransactionAsync(Store,
        [
            Upsert(fresh, "must not appear"),
            new StateTransactionRequest(existing, null, StateOperationType.Delete),
            Upsert(existing, "after", WrongETag(etag)),
        ]);

        await act.Should().ThrowAsync<DaprException>();
        (await client.GetStateAsync<string>(Store, fresh)).Should().BeNull("a failed transaction writes nothing");
        var (value, etagAfter) = await client.GetStateAndETagAsync<string>(Store, existing);
        value.Should().Be("before", "the delete before the failing upsert was rolled back too");
        etagAfter.Should().Be(etag);

        using var response = await PostJsonAsync(http, $"/v1.0/state/{Store}/transaction",
            $$$"""{"operations":[{"operation":"upsert","request":{"key":"{{{fresh}}}","value":1}},{"operation":"delete","request":{"key":"{{{existing}}}","etag":"{{{WrongETag(etag)}}}"}}]}""");
        response.IsSuccessStatusCode.Should().BeFalse();
        (await ErrorAsync(response)).Code.Should().Be("ERR_STATE_TRANSACTION");
        (await client.GetStateAsync<string>(Store, fresh)).Should().BeNull();
    }

    [Fact]
    public async Task A_transaction_over_http_upserts_with_ttl_and_deletes()
    {
        var sidecar = await SidecarAsync();
        using var http = sidecar.CreateHttpClient();
        var (a, b) = (NewKey("a"), NewKey("b"));

        using var response = await PostJsonAsync(http, $"/v1.0/state/{Store}/transaction",
            $$$$"""{"operations":[{"operation":"upsert","request":{"key":"{{{{a}}}}","value":{"x":1},"metadata":{"ttlInSeconds":"100"}}},{"operation":"upsert","request":{"key":"{{{{b}}}}","value":2}},{"operation":"delete","request":{"key":"{{{{b}}}}"}}]}""");

        response.StatusCode.Should().Be(HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        using var get = await http.GetAsync($"/v1.0/state/{Store}/{a}");
        get.StatusCode.Should().Be(HttpStatusCode.OK);
        get.Headers.Contains("metadata.ttlExpireTime").Should().BeTrue();
        (await http.GetAsync($"/v1.0/state/{Store}/{b}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    protected static StateTransactionRequest Upsert(string key, string value, string? etag = null, IReadOnlyDictionary<string, string>? metadata = null) =>
        new(key, JsonSerializer.SerializeToUtf8Bytes(value), StateOperationType.Upsert, etag, metadata);

    protected static async Task<HttpResponseMessage> PostJsonAsync(HttpClient http, string url, string json) =>
        await http.PostAsync(url, new StringContent(json, Encoding.UTF8, "application/json"));

    protected static async Task<string> GetJsonAsync(HttpClient http, string key, string store = Store)
    {
        using var response = await http.GetAsync($"/v1.0/state/{store}/{key}");
        response.StatusCode.Should().Be(HttpStatusCode.OK, $"{key} should exist");
        return await response.Content.ReadAsStringAsync();
    }

    protected static async Task<(string Code, string Message)> ErrorAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(body);
        return (doc.RootElement.GetProperty("errorCode").GetString()!, doc.RootElement.GetProperty("message").GetString()!);
    }

    protected static async Task PollAsync(Func<Task<bool>> condition, TimeSpan timeout, string because)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out after {timeout}: {because}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Query on a store without the query API: daprd's ERR_STATE_STORE_NOT_SUPPORTED, over HTTP and gRPC.</summary>
    protected async Task AssertQueryIsNotSupportedAsync()
    {
        var sidecar = await SidecarAsync();
        using var http = sidecar.CreateHttpClient();
        using var client = sidecar.CreateClient();

        using var response = await PostJsonAsync(http, $"/v1.0-alpha1/state/{Store}/query", """{"filter":{"EQ":{"a":1}}}""");

        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await ErrorAsync(response)).Code.Should().Be("ERR_STATE_STORE_NOT_SUPPORTED");
        await ((Func<Task>)(() => client.QueryStateAsync<Widget>(Store, """{"filter":{"EQ":{"a":1}}}"""))).Should().ThrowAsync<DaprException>();
    }

    /// <summary>
    /// For a store whose ETags have a format (numbers): an ETag out of it is "invalid" (400 / InvalidArgument), not a
    /// mismatch, on saves over HTTP and gRPC and on deletes, and the value is left as it was.
    /// </summary>
    protected async Task AssertAnEtagOutOfFormatIsInvalidAsync()
    {
        var sidecar = await SidecarAsync();
        using var http = sidecar.CreateHttpClient();
        using var client = sidecar.CreateClient();
        var key = NewKey();
        await client.SaveStateAsync(Store, key, "v");

        using var response = await PostJsonAsync(http, $"/v1.0/state/{Store}", $$$"""[{"key":"{{{key}}}","value":"w","etag":"not-a-number"}]""");

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(response)).Code.Should().Be("ERR_STATE_SAVE");
        (await GrpcStatusOf(() => client.TrySaveStateAsync(Store, key, "w", "not-a-number"))).Should().Be(StatusCode.InvalidArgument);
        (await GrpcStatusOf(() => client.TryDeleteStateAsync(Store, key, "-1"))).Should().Be(StatusCode.InvalidArgument);
        (await client.GetStateAsync<string>(Store, key)).Should().Be("v");
    }

    protected static async Task<StatusCode> GrpcStatusOf(Func<Task> act)
    {
        var thrown = await act.Should().ThrowAsync<DaprException>();
        return thrown.Which.InnerException.Should().BeOfType<RpcException>().Which.StatusCode;
    }
}
