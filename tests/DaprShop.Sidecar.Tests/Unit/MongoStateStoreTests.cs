using System.Text;
using DaprShop.Sidecar.Components.State;
using FluentAssertions;
using MongoDB.Bson;

namespace DaprShop.Sidecar.Tests.Unit;

/// <summary>
/// state.mongodb cannot be run against a server on this project's machines (no MongoDB server can be installed), so
/// what can be checked without one is checked here: daprd's connection strings, documents, filters and update
/// pipelines, and, through a real sidecar process, that the component loads, validates its settings and refuses to
/// start when MongoDB cannot be reached.
/// </summary>
public sealed class MongoStateStoreTests
{
    private static Dictionary<string, string> Meta(params (string, string)[] items) => items.ToDictionary(i => i.Item1, i => i.Item2);

    [Fact]
    public void The_connection_string_is_built_from_host_or_server_credentials_and_params_as_daprd_builds_it()
    {
        MongoStateStore.ConnectionString(Meta(("host", "db:27017")), "daprStore").Should().Be("mongodb://db:27017/daprStore");
        MongoStateStore.ConnectionString(Meta(("host", "db:27017"), ("username", "ada"), ("password", "p@ss"), ("params", "authSource=admin")), "shop")
            .Should().Be("mongodb://ada:p%40ss@db:27017/shop?authSource=admin");
        MongoStateStore.ConnectionString(Meta(("server", "cluster.example.net"), ("params", "?retryWrites=true")), "daprStore")
            .Should().Be("mongodb+srv://cluster.example.net/?retryWrites=true");
        MongoStateStore.ConnectionString(Meta(("connectionString", "mongodb://a,b/?replicaSet=rs0"), ("host", "ignored")), "daprStore")
            .Should().Be("mongodb://a,b/?replicaSet=rs0");
        ((Action)(() => MongoStateStore.ConnectionString(Meta(("host", "a"), ("server", "b")), "x"))).Should().Throw<ArgumentException>();
        ((Action)(() => MongoStateStore.ConnectionString(Meta(), "x"))).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Values_are_stored_as_their_text_and_bytes_that_are_not_utf8_stay_binary()
    {
        MongoStateStore.Encode(Encoding.UTF8.GetBytes("""{"a":1}""")).Should().Be(new BsonString("""{"a":1}"""));
        MongoStateStore.Encode([0xff, 0x00, 0x10]).Should().BeOfType<BsonBinaryData>().Which.Bytes.Should().Equal(0xff, 0x00, 0x10);

        Encoding.UTF8.GetString(MongoStateStore.Decode(new BsonString("\"x\""))).Should().Be("\"x\"");
        MongoStateStore.Decode(new BsonBinaryData([1, 2])).Should().Equal(1, 2);
        var written = System.Text.Json.JsonDocument.Parse(MongoStateStore.Decode(new BsonDocument { { "name", "w" }, { "count", 2 } })).RootElement;
        written.GetProperty("name").GetString().Should().Be("w", "a document daprd wrote from a JSON value reads back as that JSON");
        written.GetProperty("count").GetInt32().Should().Be(2);
        Encoding.UTF8.GetString(MongoStateStore.Decode(new BsonInt32(5))).Should().Be("5");
        Encoding.UTF8.GetString(MongoStateStore.Decode(new BsonArray { 1, "a" })).Should().Be("""[1, "a"]""");
    }

    [Fact]
    public void A_save_is_an_upsert_filtered_by_key_and_etag_and_first_write_filters_by_an_etag_no_document_has()
    {
        var (lastWrite, _, _) = MongoStateStore.Upsert(new SetOperation("k", [], null, Concurrency.LastWrite, null));
        var (withEtag, _, _) = MongoStateStore.Upsert(new SetOperation("k", [], "e-1", Concurrency.LastWrite, null));
        var (firstWrite, _, _) = MongoStateStore.Upsert(new SetOperation("k", [], null, Concurrency.FirstWrite, null));

        lastWrite.ToJson().Should().Be(new BsonDocument("_id", "k").ToJson());
        withEtag.ToJson().Should().Be(new BsonDocument { { "_id", "k" }, { "_etag", "e-1" } }.ToJson());
        firstWrite["_etag"].AsString.Should().NotBeNullOrEmpty("a present key then fails the upsert with a duplicate _id: a mismatch");
    }

    [Fact]
    public void The_update_sets_the_value_literally_and_a_new_etag_and_computes_the_ttl_on_the_server()
    {
        var (_, update, etag) = MongoStateStore.Upsert(new SetOperation("k", Encoding.UTF8.GetBytes("$notAField"), null, Concurrency.LastWrite, TimeSpan.FromSeconds(90)));
        var (_, forever, _) = MongoStateStore.Upsert(new SetOperation("k", [], null, Concurrency.LastWrite, null));

        var set = update[0]["$set"].AsBsonDocument;
        set["_id"].AsString.Should().Be("k");
        set["value"].ToJson().Should().Be(new BsonDocument("$literal", "$notAField").ToJson());
        set["_etag"].AsString.Should().Be(etag);
        Guid.TryParse(etag, out _).Should().BeTrue();
        update[1].ToJson().Should().Be(new BsonDocument("$addFields", new BsonDocument("_ttl", new BsonDocument("$add", new BsonArray { "$$NOW", 90_000L }))).ToJson());
        forever[1].ToJson().Should().Be(new BsonDocument("$addFields", new BsonDocument("_ttl", BsonNull.Value)).ToJson());
    }

    [Fact]
    public void Reads_skip_documents_whose_ttl_has_passed_and_a_document_becomes_an_entry_with_its_etag_and_expiry()
    {
        var filter = MongoStateStore.LiveWith(new BsonDocument("_id", "k"));
        filter.ToJson().Should().Contain("\"$$NOW\"").And.Contain("\"$_ttl\"").And.Contain("\"_id\" : \"k\"");

        var at = new DateTime(2026, 12, 3, 8, 0, 0, DateTimeKind.Utc);
        var entry = MongoStateStore.ToEntry(new BsonDocument { { "_id", "k" }, { "value", "\"v\"" }, { "_etag", "e-7" }, { "_ttl", at } });
        Encoding.UTF8.GetString(entry.Value).Should().Be("\"v\"");
        entry.ETag.Should().Be("e-7");
        entry.ExpiresAt.Should().Be(new DateTimeOffset(at));
        MongoStateStore.ToEntry(new BsonDocument { { "_id", "k" }, { "value", "1" }, { "_etag", "e" }, { "_ttl", BsonNull.Value } }).ExpiresAt.Should().BeNull();
    }

    [Fact]
    public async Task A_sidecar_with_a_mongodb_store_refuses_to_start_when_its_settings_are_wrong_or_the_server_cannot_be_reached()
    {
        using var mesh = new TestMesh();
        using var both = new ResourcesFolder().WithComponent("orders", "state.mongodb", ("host", "127.0.0.1:1"), ("server", "x.example"));
        using var unreachable = new ResourcesFolder().WithComponent("orders", "state.mongodb", ("host", "127.0.0.1:1"), ("operationTimeout", "1s"));

        var (badCode, badOutput) = await SidecarProcess.RunToExitAsync(new() { AppId = "mongo", ResourcesPaths = [both.Path], MeshDirectory = mesh.Directory });
        var (downCode, downOutput) = await SidecarProcess.RunToExitAsync(new() { AppId = "mongo", ResourcesPaths = [unreachable.Path], MeshDirectory = mesh.Directory });

        badCode.Should().NotBe(0);
        badOutput.Should().Contain("'orders'").And.Contain("exactly one of 'host' and 'server'");
        downCode.Should().NotBe(0);
        downOutput.Should().Contain("cannot reach MongoDB at 127.0.0.1:1");
    }
}
