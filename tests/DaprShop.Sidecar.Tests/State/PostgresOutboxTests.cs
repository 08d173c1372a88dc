using System.Text;
using System.Text.Json.Nodes;
using Dapr.Client;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Npgsql;

namespace DaprShop.Sidecar.Tests.State;

/// <summary>The outbox on PostgreSQL, driven through the gRPC API as the .NET SDK does.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresOutboxTests(PostgresServer postgres)
{
    [Fact]
    public async Task A_grpc_transaction_publishes_its_upserts_and_a_record_found_later_is_published_by_the_periodic_relay()
    {
        using var mesh = new TestMesh();
        var database = await postgres.CreateDatabaseAsync();
        using var resources = new ResourcesFolder()
            .WithComponent("pubsub", "pubsub.in-memory")
            .WithComponent("store", "state.postgresql", ("connectionString", postgres.DaprConnectionString(database)),
                ("outboxPublishPubsub", "pubsub"), ("outboxPublishTopic", "changes"));
        await using var app = await TestApp.StartAsync(a =>
        {
            a.MapGet("/dapr/subscribe", () => Results.Json(new[] { new { pubsubname = "pubsub", topic = "changes", route = "/changes" } }));
            a.MapPost("/changes", () => Results.Ok());
        });
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "shop", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        using var client = sidecar.CreateClient();
        List<JsonObject> Events() => app.RequestsTo("/changes").Select(r => JsonNode.Parse(r.Body)!.AsObject()).ToList();

        await client.ExecuteStateTransactionAsync("store",
        [
            new StateTransactionRequest("sku-1", Encoding.UTF8.GetBytes("""{"price":5}"""), StateOperationType.Upsert,
                metadata: new Dictionary<string, string> { ["outbox.cloudevent.type"] = "PriceChanged" }),
        ]);
        await Eventually.HoldsAsync(() => Events().Count >= 1, "the upsert is announced");
        Events().Single()["type"]!.GetValue<string>().Should().Be("PriceChanged");
        Events().Single()["data"]!["price"]!.GetValue<int>().Should().Be(5);

        // A record written behind the sidecar's back, as a crashed replica would leave it.
        await using (var conn = new NpgsqlConnection(postgres.AdminConnectionString(database)))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("INSERT INTO state (key, value, isbinary) VALUES ('__outbox||shop||evt-9', $1::jsonb, false)", conn);
            cmd.Parameters.Add(new NpgsqlParameter { Value = $$"""
                {"id":"evt-9","stateKey":"shop||sku-9","pubsub":"pubsub","topic":"changes","data":"{{Convert.ToBase64String("""{"price":9}"""u8.ToArray())}}",
                 "contentType":"application/json","metadata":{"cloudevent.id":"evt-9"},"time":"2026-01-01T00:00:00Z"}
                """ });
            await cmd.ExecuteNonQueryAsync();
        }

        await Eventually.HoldsAsync(() => Events().Count >= 2, Runtime.StateOutboxRelay.Interval * 3, "the relay finds the pending record");
        Events()[1]["id"]!.GetValue<string>().Should().Be("evt-9");
        Events()[1]["data"]!["price"]!.GetValue<int>().Should().Be(9);
        await Eventually.HoldsAsync(async () =>
        {
            await using var conn = new NpgsqlConnection(postgres.AdminConnectionString(database));
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT count(*) FROM state WHERE starts_with(key, '__outbox||')", conn);
            return (long)(await cmd.ExecuteScalarAsync())! == 0;
        }, TimeSpan.FromSeconds(10), "published records are deleted");
    }
}
