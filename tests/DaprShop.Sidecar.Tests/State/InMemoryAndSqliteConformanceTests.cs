using System.Net;
using Dapr.Client;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.Data.Sqlite;

namespace DaprShop.Sidecar.Tests.State;

public sealed class InMemoryStateConformanceTests(ConformanceSidecar shared) : StateConformanceTests(shared)
{
    protected override Task<StoreSpec> NewStoreAsync() => Task.FromResult(new StoreSpec("state.in-memory"));

    [Fact]
    public Task The_in_memory_store_does_not_answer_queries() => AssertQueryIsNotSupportedAsync();
}

public sealed class SqliteStateConformanceTests(ConformanceSidecar shared) : PersistentStateConformanceTests(shared)
{
    protected override Task<StoreSpec> NewStoreAsync() =>
        Task.FromResult(new StoreSpec("state.sqlite", ("connectionString", NewFile())));

    private string NewFile() => Path.Combine(Shared.Scratch, $"{Guid.NewGuid():N}.db");

    private static string FileOf(StoreSpec store) => store.Metadata.Single(m => m.Name == "connectionString").Value;

    private static SqliteConnection Open(string file)
    {
        var conn = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        conn.Open();
        return conn;
    }

    private static List<object?[]> Rows(string file, string sql)
    {
        using var conn = Open(file);
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
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

    protected override Task<IReadOnlyList<string>> RawKeysAsync(StoreSpec store) =>
        Task.FromResult<IReadOnlyList<string>>(Rows(FileOf(store), "SELECT key FROM state ORDER BY key").Select(r => (string)r[0]!).ToList());

    [Fact]
    public Task The_sqlite_store_does_not_answer_queries() => AssertQueryIsNotSupportedAsync();

    [Fact]
    public async Task The_database_has_daprs_layout_json_as_text_bytes_as_base64_and_uuid_etags()
    {
        var store = await NewStoreAsync();
        var file = FileOf(store);
        var sidecar = await StartAsync("layout", store);
        using var client = sidecar.CreateClient();

        await client.SaveStateAsync(Store, "json", new Widget("w", 1, []));
        await client.SaveByteStateAsync(Store, "bytes", new byte[] { 0xff, 0x00, 0x10 });
        await client.SaveStateAsync(Store, "ttl", 5, metadata: new Dictionary<string, string> { ["ttlInSeconds"] = "600" });

        Rows(file, "SELECT name, type, \"notnull\", pk FROM pragma_table_info('state') ORDER BY cid").Select(r => $"{r[0]} {r[1]} {r[2]} {r[3]}").Should().Equal(
            "key TEXT 1 1", "value TEXT 1 0", "is_binary BOOLEAN 1 0", "etag TEXT 1 0", "expiration_time TIMESTAMP 0 0", "update_time TIMESTAMP 1 0");
        Rows(file, "SELECT value FROM metadata WHERE key = 'migrations'").Single()[0].Should().Be("1");
        Rows(file, "PRAGMA journal_mode").Single()[0].Should().Be("wal");

        var json = Rows(file, "SELECT value, is_binary, etag, expiration_time FROM state WHERE key = 'layout||json'").Single();
        json[0].Should().Be("""{"name":"w","count":1,"tags":[]}""");
        json[1].Should().Be(0L);
        Guid.TryParse((string)json[2]!, out _).Should().BeTrue("ETags are random UUIDs");
        json[3].Should().BeNull();
        var bytes = Rows(file, "SELECT value, is_binary FROM state WHERE key = 'layout||bytes'").Single();
        bytes[0].Should().Be(Convert.ToBase64String([0xff, 0x00, 0x10]));
        bytes[1].Should().Be(1L);
        var expires = DateTime.Parse((string)Rows(file, "SELECT expiration_time FROM state WHERE key = 'layout||ttl'").Single()[0]!, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal);
        expires.Should().BeCloseTo(DateTime.UtcNow.AddSeconds(600), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Many_parallel_writers_never_see_a_busy_database()
    {
        var store = await NewStoreAsync();
        var sidecar = await StartAsync("busy", store);
        var other = await StartAsync("busy", store); // a second process on the same file
        using var http = sidecar.CreateHttpClient();
        using var http2 = other.CreateHttpClient();
        using var client = sidecar.CreateClient();

        var writes = Enumerable.Range(0, 200).Select(async i =>
        {
            var target = i % 2 == 0 ? http : http2;
            using var response = await PostJsonAsync(target, $"/v1.0/state/{Store}", $$$"""[{"key":"p{{{i}}}","value":{{{i}}}}]""");
            response.StatusCode.Should().Be(HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        });
        var transactions = Enumerable.Range(0, 40).Select(i => client.ExecuteStateTransactionAsync(Store, [Upsert($"t{i}", "a"), Upsert($"u{i}", "b")]));
        await Task.WhenAll(writes.Concat(transactions));

        (await RawKeysAsync(store)).Should().HaveCount(280);
    }

    [Fact]
    public async Task Concurrent_transactions_sharing_a_commit_each_stay_all_or_nothing()
    {
        // Writes that queue up behind a commit are committed together; a stale ETag must still undo only its own transaction.
        var store = await NewStoreAsync();
        var sidecar = await StartAsync("group", store);
        using var client = sidecar.CreateClient();
        await client.SaveStateAsync(Store, "guard", "v1");
        var (_, current) = await client.GetStateAndETagAsync<string>(Store, "guard");

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 60).Select(async i =>
        {
            // Odd transactions carry a wrong ETag on their last operation; even ones none.
            var guard = new StateTransactionRequest("guard-" + i, System.Text.Encoding.UTF8.GetBytes("\"x\""), StateOperationType.Upsert,
                i % 2 == 1 ? "00000000-0000-0000-0000-000000000000" : null);
            try
            {
                await client.ExecuteStateTransactionAsync(Store, [Upsert($"a{i}", "a"), Upsert($"b{i}", "b"), guard]);
                return (i, Committed: true);
            }
            catch (Dapr.DaprException)
            {
                return (i, Committed: false);
            }
        }));

        outcomes.Where(o => o.Committed).Select(o => o.i).Should().OnlyContain(i => i % 2 == 0).And.HaveCount(30);
        var keys = await RawKeysAsync(store);
        keys.Should().BeEquivalentTo(Enumerable.Range(0, 30).SelectMany(h => new[] { $"group||a{2 * h}", $"group||b{2 * h}", $"group||guard-{2 * h}" }).Append("group||guard"));
        (await client.GetStateAndETagAsync<string>(Store, "guard")).etag.Should().Be(current, "nothing touched the guard");
    }

    [Fact]
    public async Task File_uris_with_driver_pragmas_and_ado_net_strings_both_open_and_an_actor_store_is_accepted()
    {
        var uriFile = NewFile();
        var uriStore = new StoreSpec("state.sqlite", ("connectionString", $"file:{uriFile}?_pragma=busy_timeout(5000)&_txlock=immediate"), ("actorStateStore", "true"));
        var adoFile = NewFile();
        var adoStore = new StoreSpec("state.sqlite", ("connectionString", $"Data Source={adoFile}"), ("tableName", "daprstate"), ("disableWAL", "true"));

        var viaUri = await StartAsync("uri", uriStore);
        var viaAdo = await StartAsync("ado", adoStore);
        using (var a = viaUri.CreateClient())
        {
            await a.SaveStateAsync(Store, "k", 1);
        }
        using (var b = viaAdo.CreateClient())
        {
            await b.SaveStateAsync(Store, "k", 2);
        }

        Rows(uriFile, "SELECT key FROM state").Single()[0].Should().Be("uri||k");
        Rows(adoFile, "SELECT key FROM daprstate").Single()[0].Should().Be("ado||k");
        Rows(adoFile, "PRAGMA journal_mode").Single()[0].Should().Be("delete", "disableWAL keeps the rollback journal");
    }

    [Fact]
    public async Task A_sqlite_component_without_a_connection_string_stops_the_sidecar_naming_the_file_component_and_field()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().WithComponent("orders-db", "state.sqlite", ("tableName", "orders"));

        var (exitCode, output) = await SidecarProcess.RunToExitAsync(new() { AppId = "broken", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });

        exitCode.Should().NotBe(0);
        output.Should().Contain("orders-db.yaml").And.Contain("orders-db").And.Contain("connectionString");
    }
}
