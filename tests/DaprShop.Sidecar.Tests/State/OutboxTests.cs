using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;

namespace DaprShop.Sidecar.Tests.State;

/// <summary>Dapr's transactional outbox on a SQLite store: the events of a transaction are kept in it until published.</summary>
public sealed class OutboxTests
{
    private static ResourcesFolder OutboxStore(string file, string pubsub = "pubsub", string topic = "changes") =>
        new ResourcesFolder()
            .WithComponent("pubsub", "pubsub.in-memory")
            .WithComponent("store", "state.sqlite", ("connectionString", file), ("outboxPublishPubsub", pubsub), ("outboxPublishTopic", topic));

    private static Task<TestApp> SubscriberAsync() => TestApp.StartAsync(a =>
    {
        a.MapGet("/dapr/subscribe", () => Results.Json(new[] { new { pubsubname = "pubsub", topic = "changes", route = "/changes" } }));
        a.MapPost("/changes", () => Results.Ok());
    });

    private static List<JsonObject> Events(TestApp app) =>
        app.RequestsTo("/changes").Select(r => JsonNode.Parse(r.Body)!.AsObject()).ToList();

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static long Count(string file, string sql)
    {
        using var conn = new SqliteConnection($"Data Source={file};Pooling=false");
        conn.Open();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        return (long)cmd.ExecuteScalar()!;
    }

    /// <summary>A sidecar on an outbox store (a SQLite file of its own) whose app subscribes to the outbox topic.</summary>
    private sealed class OutboxShop : IAsyncDisposable
    {
        private readonly TestMesh _mesh = new();
        private readonly ResourcesFolder _data = new(); // a temp folder for the database, removed with the test
        private ResourcesFolder? _resources;
        private SidecarProcess? _sidecar;

        public string File => Path.Combine(_data.Path, "state.db");
        public TestApp App { get; private set; } = null!;
        public HttpClient Http { get; private set; } = null!;

        public static async Task<OutboxShop> StartAsync()
        {
            var shop = new OutboxShop();
            try
            {
                shop._resources = OutboxStore(shop.File);
                shop.App = await SubscriberAsync();
                shop._sidecar = await SidecarProcess.StartAsync(new() { AppId = "shop", ResourcesPaths = [shop._resources.Path], MeshDirectory = shop._mesh.Directory, AppPort = shop.App.Port });
                shop.Http = shop._sidecar.CreateHttpClient();
                return shop;
            }
            catch
            {
                await shop.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            Http?.Dispose();
            if (_sidecar is not null)
            {
                await _sidecar.DisposeAsync();
            }
            if (App is not null)
            {
                await App.DisposeAsync();
            }
            _resources?.Dispose();
            _data.Dispose();
            _mesh.Dispose();
        }
    }

    [Fact]
    public async Task A_transaction_on_an_outbox_store_publishes_one_cloud_event_per_upsert_after_the_commit()
    {
        await using var shop = await OutboxShop.StartAsync();
        var (file, app, http) = (shop.File, shop.App, shop.Http);

        var response = await http.PostAsync("/v1.0/state/store/transaction", Json("""
            {"operations":[
              {"operation":"upsert","request":{"key":"order-1","value":{"total":10}}},
              {"operation":"upsert","request":{"key":"order-2","value":{"total":20}}},
              {"operation":"delete","request":{"key":"order-0"}}
            ]}
            """));
        response.StatusCode.Should().Be(HttpStatusCode.NoContent);

        await Eventually.HoldsAsync(() => Events(app).Count >= 2, "both upserts are announced");
        var events = Events(app);
        events.Should().HaveCount(2, "a delete is not announced");
        events.Select(e => e["data"]!["total"]!.GetValue<int>()).Should().BeEquivalentTo([10, 20]);
        events.Should().OnlyContain(e => e["topic"]!.GetValue<string>() == "changes" && e["pubsubname"]!.GetValue<string>() == "pubsub" && e["source"]!.GetValue<string>() == "shop");
        events.Select(e => e["id"]!.GetValue<string>()).Should().OnlyHaveUniqueItems();
        (await http.GetStringAsync("/v1.0/state/store/order-2")).Should().Be("""{"total":20}""");
        await Eventually.HoldsAsync(() => Count(file, "SELECT count(*) FROM state WHERE key LIKE '\\_\\_outbox%' ESCAPE '\\'") == 0, "published records are deleted");
    }

    [Fact]
    public async Task A_projection_shapes_the_event_without_being_saved_and_cloud_event_fields_can_be_overridden()
    {
        await using var shop = await OutboxShop.StartAsync();
        var (file, app, http) = (shop.File, shop.App, shop.Http);

        var response = await http.PostAsync("/v1.0/state/store/transaction", Json("""
            {"operations":[
              {"operation":"upsert","request":{"key":"customer-1","value":{"name":"Ada","secret":"s"}}},
              {"operation":"upsert","request":{"key":"customer-1","value":{"name":"Ada"},
                "metadata":{"outbox.projection":"true","outbox.cloudevent.type":"CustomerCreated","outbox.cloudevent.id":"business-id-1"}}}
            ]}
            """));
        response.StatusCode.Should().Be(HttpStatusCode.NoContent);

        await Eventually.HoldsAsync(() => Events(app).Count >= 1, "the upsert is announced");
        var ce = Events(app).Single();
        ce["data"]!.ToJsonString().Should().Be("""{"name":"Ada"}""", "the projection is published");
        ce["type"]!.GetValue<string>().Should().Be("CustomerCreated");
        ce["id"]!.GetValue<string>().Should().Be("business-id-1");
        (await http.GetStringAsync("/v1.0/state/store/customer-1")).Should().Be("""{"name":"Ada","secret":"s"}""", "the projection is not saved");

        var orphan = await http.PostAsync("/v1.0/state/store/transaction", Json("""
            {"operations":[{"operation":"upsert","request":{"key":"nobody","value":1,"metadata":{"outbox.projection":"true"}}}]}
            """));
        orphan.StatusCode.Should().Be(HttpStatusCode.BadRequest, "a projection must match an upsert of the same key");
    }

    [Fact]
    public async Task A_transaction_that_fails_on_an_etag_mismatch_publishes_nothing()
    {
        await using var shop = await OutboxShop.StartAsync();
        var (file, app, http) = (shop.File, shop.App, shop.Http);

        var failed = await http.PostAsync("/v1.0/state/store/transaction", Json("""
            {"operations":[
              {"operation":"upsert","request":{"key":"lost-1","value":1}},
              {"operation":"upsert","request":{"key":"lost-2","value":2,"etag":"00000000-0000-0000-0000-000000000000"}}
            ]}
            """));
        failed.StatusCode.Should().Be(HttpStatusCode.InternalServerError, "daprd answers ERR_STATE_TRANSACTION");
        var committed = await http.PostAsync("/v1.0/state/store/transaction", Json("""{"operations":[{"operation":"upsert","request":{"key":"kept","value":3}}]}"""));
        committed.StatusCode.Should().Be(HttpStatusCode.NoContent);

        // The relay runs at start and every few seconds: wait past one round, so a stray record would have been published.
        await Eventually.HoldsAsync(() => Events(app).Count >= 1, "the committed transaction is announced");
        await Task.Delay(StateOutboxRelayInterval + TimeSpan.FromSeconds(1));
        Events(app).Select(e => e["data"]!.GetValue<int>()).Should().Equal(3);
        Count(file, "SELECT count(*) FROM state WHERE key LIKE '\\_\\_outbox%' ESCAPE '\\'").Should().Be(0);
        (await http.GetAsync("/v1.0/state/store/lost-1")).StatusCode.Should().Be(HttpStatusCode.NoContent, "the failed transaction saved nothing");
    }

    private static readonly TimeSpan StateOutboxRelayInterval = Runtime.StateOutboxRelay.Interval;

    [Fact]
    public async Task A_record_left_by_a_crash_after_the_commit_is_published_when_the_sidecar_starts_again()
    {
        using var mesh = new TestMesh();
        using var data = new ResourcesFolder(); // a temp folder for the database, removed with the test
        var file = Path.Combine(data.Path, "state.db");
        // A first run creates the database and the state the event announces.
        using (var plain = new ResourcesFolder().WithComponent("store", "state.sqlite", ("connectionString", file)))
        {
            await using var first = await SidecarProcess.StartAsync(new() { AppId = "shop", ResourcesPaths = [plain.Path], MeshDirectory = mesh.Directory });
            using var http = first.CreateHttpClient();
            (await http.PostAsync("/v1.0/state/store", Json("""[{"key":"order-7","value":{"total":70}}]"""))).StatusCode.Should().Be(HttpStatusCode.NoContent);
        }
        // What a transaction leaves when the sidecar dies between the commit and the publish.
        using (var conn = new SqliteConnection($"Data Source={file};Pooling=false"))
        {
            conn.Open();
            using var cmd = conn.CreateCommand();
            cmd.CommandText = "INSERT INTO state (key, value, is_binary, etag) VALUES ('__outbox||shop||evt-7', $value, 0, 'e')";
            cmd.Parameters.AddWithValue("$value", $$"""
                {"id":"evt-7","stateKey":"shop||order-7","pubsub":"pubsub","topic":"changes","data":"{{Convert.ToBase64String("""{"total":70}"""u8.ToArray())}}",
                 "contentType":"application/json","metadata":{"cloudevent.id":"evt-7"},"time":"2026-01-01T00:00:00Z"}
                """);
            cmd.ExecuteNonQuery();
        }

        using var resources = OutboxStore(file);
        await using var app = await SubscriberAsync();
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "shop", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });

        await Eventually.HoldsAsync(() => Events(app).Count >= 1, "the pending event is published after the restart");
        var ce = Events(app).Single();
        ce["id"]!.GetValue<string>().Should().Be("evt-7", "every attempt carries the record's CloudEvent id");
        ce["data"]!["total"]!.GetValue<int>().Should().Be(70);
        await Eventually.HoldsAsync(() => Count(file, "SELECT count(*) FROM state WHERE key = '__outbox||shop||evt-7'") == 0, "the published record is deleted");
    }

    [Fact]
    public async Task An_outbox_naming_an_unknown_pub_sub_stops_the_sidecar_naming_the_field()
    {
        using var mesh = new TestMesh();
        using var data = new ResourcesFolder();
        using var resources = OutboxStore(Path.Combine(data.Path, "state.db"), pubsub: "nowhere");

        var (exitCode, output) = await SidecarProcess.RunToExitAsync(new() { AppId = "broken", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });

        exitCode.Should().NotBe(0);
        output.Should().Contain("store.yaml").And.Contain("outboxPublishPubsub").And.Contain("nowhere");
    }

    [Fact]
    public async Task An_outbox_without_a_topic_stops_the_sidecar_naming_the_field()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder()
            .WithComponent("pubsub", "pubsub.in-memory")
            .WithComponent("store", "state.sqlite", ("connectionString", ":memory:"), ("outboxPublishPubsub", "pubsub"));

        var (exitCode, output) = await SidecarProcess.RunToExitAsync(new() { AppId = "broken", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });

        exitCode.Should().NotBe(0);
        output.Should().Contain("store.yaml").And.Contain("outboxPublishTopic");
    }
}
