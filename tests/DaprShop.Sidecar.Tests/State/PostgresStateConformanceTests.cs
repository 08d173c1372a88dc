using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Dapr.Client;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Grpc.Core;
using Npgsql;

namespace DaprShop.Sidecar.Tests.State;

[Collection(PostgresCollection.Name)]
public sealed class PostgresStateConformanceTests(ConformanceSidecar shared, PostgresServer postgres) : PersistentStateConformanceTests(shared)
{
    protected override async Task<StoreSpec> NewStoreAsync() =>
        new("state.postgresql", ("connectionString", postgres.DaprConnectionString(await postgres.CreateDatabaseAsync())));

    /// <summary>Postgres ETags are xmin values: a wrong one must still be a uint32, or it is "invalid", not "mismatched".</summary>
    protected override string WrongETag(string current) =>
        ((uint.Parse(current, CultureInfo.InvariantCulture) + 1_000_000u) % uint.MaxValue).ToString(CultureInfo.InvariantCulture);

    private static string DatabaseOf(StoreSpec store) =>
        store.Metadata.Single(m => m.Name == "connectionString").Value.Split(' ').Single(p => p.StartsWith("dbname=", StringComparison.Ordinal))["dbname=".Length..];

    private async Task<List<object?[]>> RowsAsync(StoreSpec store, string sql)
    {
        await using var conn = new NpgsqlConnection(postgres.AdminConnectionString(DatabaseOf(store)));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }
            rows.Add(row);
        }
        return rows;
    }

    protected override async Task<IReadOnlyList<string>> RawKeysAsync(StoreSpec store) =>
        (await RowsAsync(store, "SELECT key FROM state ORDER BY key")).Select(r => (string)r[0]!).ToList();

    [Fact]
    public Task An_etag_that_is_not_a_transaction_id_is_invalid_not_mismatched() => AssertAnEtagOutOfFormatIsInvalidAsync();

    [Fact]
    public async Task The_database_has_daprs_layout_with_jsonb_values_and_xmin_etags()
    {
        var store = await NewStoreAsync();
        var sidecar = await StartAsync("layout", store);
        using var client = sidecar.CreateClient();

        await client.SaveStateAsync(Store, "json", new Widget("w", 1, []));
        await client.SaveByteStateAsync(Store, "bytes", new byte[] { 0xff, 0x00, 0x10 });
        await client.SaveStateAsync(Store, "ttl", 5, metadata: new Dictionary<string, string> { ["ttlInSeconds"] = "600" });
        var (_, etag) = await client.GetStateAndETagAsync<Widget>(Store, "json");

        (await RowsAsync(store, "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = 'state' ORDER BY ordinal_position"))
            .Select(r => $"{r[0]} {r[1]} {r[2]}").Should().Equal(
                "key text NO", "value jsonb NO", "isbinary boolean NO", "insertdate timestamp with time zone NO",
                "updatedate timestamp with time zone YES", "expiredate timestamp with time zone YES");
        (await RowsAsync(store, "SELECT value FROM dapr_metadata WHERE key = 'migrations'")).Single()[0].Should().Be("2");
        var json = (await RowsAsync(store, "SELECT value::text, isbinary, xmin::text, expiredate FROM state WHERE key = 'layout||json'")).Single();
        JsonNode.DeepEquals(JsonNode.Parse((string)json[0]!), JsonNode.Parse("""{"name":"w","count":1,"tags":[]}""")).Should().BeTrue();
        json[1].Should().Be(false);
        json[2].Should().Be(etag, "the ETag is the row's xmin");
        json[3].Should().BeNull();
        var bytes = (await RowsAsync(store, "SELECT value::text, isbinary FROM state WHERE key = 'layout||bytes'")).Single();
        bytes[0].Should().Be($"\"{Convert.ToBase64String([0xff, 0x00, 0x10])}\"");
        bytes[1].Should().Be(true);
        var expires = (DateTime)(await RowsAsync(store, "SELECT expiredate FROM state WHERE key = 'layout||ttl'")).Single()[0]!;
        expires.ToUniversalTime().Should().BeCloseTo(DateTime.UtcNow.AddSeconds(600), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Two_sidecars_starting_at_once_on_a_new_database_both_create_the_tables_safely()
    {
        var store = await NewStoreAsync();

        var both = await Task.WhenAll(StartAsync("one", store), StartAsync("two", store));

        using var client = both[1].CreateClient();
        await client.SaveStateAsync(Store, "k", 1);
        (await RawKeysAsync(store)).Should().Equal("two||k");
        (await RowsAsync(store, "SELECT value FROM dapr_metadata WHERE key = 'migrations'")).Single()[0].Should().Be("2");
    }

    // ---- query API ---------------------------------------------------------------------------------------------

    public sealed record Person(string Name, string City, int Age, Address Address);

    public sealed record Address(string Zip);

    private static readonly Person[] People =
    [
        new("ann", "Oslo", 31, new("0150")),
        new("bob", "Bergen", 45, new("5003")),
        new("cy", "Oslo", 9, new("0151")),
        new("dee", "Tromsø", 27, new("9008")),
        new("eve", "Bergen", 100, new("5004")),
    ];

    private async Task<SidecarProcess> SeededAsync(string appId, StoreSpec store)
    {
        var sidecar = await StartAsync(appId, store);
        using var client = sidecar.CreateClient();
        await client.SaveBulkStateAsync(Store, People.Select(p => new SaveStateItem<Person>(p.Name, p, "")).ToList());
        return sidecar;
    }

    private static async Task<(List<string> Keys, string? Token)> HttpQueryAsync(HttpClient http, string query)
    {
        using var response = await PostJsonAsync(http, $"/v1.0-alpha1/state/{Store}/query", query);
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return ([], null);
        }
        response.StatusCode.Should().Be(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var results = body["results"]!.AsArray();
        results.Should().OnlyContain(r => !string.IsNullOrEmpty((string?)r!["etag"]) && r["data"] is JsonObject);
        return (results.Select(r => (string)r!["key"]!).ToList(), (string?)body["token"]);
    }

    [Fact]
    public async Task The_query_api_filters_with_eq_in_and_or_over_nested_fields_within_the_apps_own_keys()
    {
        var store = await NewStoreAsync();
        var sidecar = await SeededAsync("people", store);
        await SeededAsync("others", store); // same rows under another app id: never returned to "people"
        using var http = sidecar.CreateHttpClient();

        (await HttpQueryAsync(http, """{"filter":{"EQ":{"city":"Oslo"}},"sort":[{"key":"name"}]}""")).Keys.Should().Equal("ann", "cy");
        (await HttpQueryAsync(http, """{"filter":{"EQ":{"address.zip":"5003"}}}""")).Keys.Should().Equal("bob");
        (await HttpQueryAsync(http, """{"filter":{"IN":{"city":["Bergen","Tromsø"]}},"sort":[{"key":"name"}]}""")).Keys.Should().Equal("bob", "dee", "eve");
        (await HttpQueryAsync(http, """{"filter":{"AND":[{"EQ":{"city":"Bergen"}},{"EQ":{"age":45}}]}}""")).Keys.Should().Equal("bob");
        (await HttpQueryAsync(http, """{"filter":{"OR":[{"EQ":{"name":"ann"}},{"EQ":{"address.zip":"9008"}}]},"sort":[{"key":"name"}]}""")).Keys.Should().Equal("ann", "dee");
        (await HttpQueryAsync(http, """{"filter":{"GT":{"age":30}},"sort":[{"key":"age","order":"DESC"}]}""")).Keys.Should().Equal("eve", "bob", "ann");
        (await HttpQueryAsync(http, """{"filter":{"EQ":{"city":"Paris"}}}""")).Keys.Should().BeEmpty();
        (await HttpQueryAsync(http, """{}""")).Keys.Should().HaveCount(People.Length, "no filter means every value of this app");
    }

    [Fact]
    public async Task The_query_api_sorts_numbers_numerically_and_pages_with_an_offset_token()
    {
        var store = await NewStoreAsync();
        var sidecar = await SeededAsync("pager", store);
        using var http = sidecar.CreateHttpClient();

        var page1 = await HttpQueryAsync(http, """{"sort":[{"key":"age"}],"page":{"limit":2}}""");
        page1.Keys.Should().Equal("cy", "dee");
        page1.Token.Should().Be("2");
        var page2 = await HttpQueryAsync(http, $$$"""{"sort":[{"key":"age"}],"page":{"limit":2,"token":"{{{page1.Token}}}"}}""");
        page2.Keys.Should().Equal("ann", "bob");
        var page3 = await HttpQueryAsync(http, $$$"""{"sort":[{"key":"age"}],"page":{"limit":2,"token":"{{{page2.Token}}}"}}""");
        page3.Keys.Should().Equal("eve");
    }

    [Fact]
    public async Task The_sdk_queries_state_and_reads_typed_results_and_the_token()
    {
        var store = await NewStoreAsync();
        var sidecar = await SeededAsync("sdkquery", store);
        using var client = sidecar.CreateClient();

        var response = await client.QueryStateAsync<Person>(Store, """{"filter":{"EQ":{"city":"Bergen"}},"sort":[{"key":"age","order":"DESC"}],"page":{"limit":10}}""");

        response.Results.Select(r => r.Key).Should().Equal("eve", "bob");
        response.Results[0].Data.Should().BeEquivalentTo(People[4]);
        response.Results.Should().OnlyContain(r => !string.IsNullOrEmpty(r.ETag));
        response.Token.Should().Be("2");
    }

    [Fact]
    public async Task A_query_the_store_cannot_run_is_an_error()
    {
        var sidecar = await SidecarAsync();
        using var http = sidecar.CreateHttpClient();
        using var client = sidecar.CreateClient();

        using var stringRange = await PostJsonAsync(http, $"/v1.0-alpha1/state/{Store}/query", """{"filter":{"GT":{"name":"a"}}}""");
        stringRange.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await ErrorAsync(stringRange)).Code.Should().Be("ERR_STATE_QUERY");
        using var badOperator = await PostJsonAsync(http, $"/v1.0-alpha1/state/{Store}/query", """{"filter":{"LIKE":{"name":"a"}}}""");
        (await ErrorAsync(badOperator)).Code.Should().Be("ERR_STATE_QUERY");
        await ((Func<Task>)(() => client.QueryStateAsync<Person>(Store, """{"page":{"limit":1,"token":"abc"}}"""))).Should().ThrowAsync<Dapr.DaprException>();
    }
}
