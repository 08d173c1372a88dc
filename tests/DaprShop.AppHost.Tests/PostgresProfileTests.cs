using System.Net.Http.Json;
using System.Text.Json;
using DaprShop.Testing;
using FluentAssertions;
using Npgsql;

namespace DaprShop.AppHost.Tests;

/// <summary>
/// The postgres profile: the AppHost starts PostgreSQL, Redis and the mail sink from local binaries and projects (no
/// container engine here) before the sidecars; state lives in PostgreSQL, events and the catalog's cache in Redis.
/// </summary>
public sealed class PostgresProfileTests
{
    [Fact]
    public async Task The_postgres_profile_starts_a_local_server_before_the_sidecars_and_keeps_the_shops_state_in_it()
    {
        await using var shop = await ShopHost.StartAsync(profile: "postgres");
        using var http = shop.CreateGatewayClient();

        (await http.PostAsJsonAsync("/api/v1/baskets/pg-shopper/items", new { productId = "p-0003", quantity = 2 })).EnsureSuccessStatusCode();

        // The server listens on a port picked per run; its socket file in the data folder names it.
        var data = Path.Combine(shop.Folder, "data", "postgres");
        var socket = Directory.GetFiles(data, ".s.PGSQL.*").Where(f => !f.EndsWith(".lock", StringComparison.Ordinal)).Should().ContainSingle().Subject;
        var port = Path.GetExtension(socket).TrimStart('.');
        await using var connection = new NpgsqlConnection($"Host={data};Port={port};Username=postgres;Database=postgres;Pooling=false");
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("select count(*) from state where key like 'basket||%pg-shopper%'", connection);
        ((long)(await query.ExecuteScalarAsync())!).Should().BeGreaterThan(0, "the basket actor's state is a row of Dapr's state table");
        Directory.GetFiles(Path.Combine(shop.Folder, "data"), "*.db").Should().BeEmpty("no SQLite file in this profile");

        // Checkout: the confirmation goes out through bindings.smtp to the mail sink the AppHost started.
        using var checkout = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders")
        {
            Content = JsonContent.Create(new
            {
                shopperId = "pg-shopper",
                email = "pg-shopper@example.com",
                shippingAddress = new { name = "Ada Lovelace", line1 = "1 Main Street", city = "London", postalCode = "N1 1AA", country = "GB" },
                card = new { number = "4242424242424242", holder = "Ada Lovelace", expiry = "12/30", cvc = "123" },
            }),
        };
        checkout.Headers.Add("Idempotency-Key", "pg-order-1");
        (await http.SendAsync(checkout)).EnsureSuccessStatusCode();
        using var mailSink = shop.CreateDirectClient("mailsink");
        JsonElement? mail = null;
        await Eventually.HoldsAsync(async () =>
            (mail = (await mailSink.GetFromJsonAsync<JsonElement[]>("/messages"))!.Where(m => m.GetProperty("subject").GetString()!.Contains("pg-order-1")).Cast<JsonElement?>().FirstOrDefault()) is not null,
            TimeSpan.FromSeconds(90), "the confirmation reaches the SMTP server");
        mail!.Value.GetProperty("to").EnumerateArray().Select(t => t.GetString()).Should().Equal("pg-shopper@example.com");
        mail.Value.GetProperty("authenticatedUser").GetString().Should().Be("daprshop", "the binding logs in with the secret store's smtp-password");
        File.Exists(mail.Value.GetProperty("file").GetString()).Should().BeTrue();
        Path.GetDirectoryName(mail.Value.GetProperty("file").GetString()).Should().Be(Path.Combine(shop.Folder, "data", "mail"));
        (Directory.Exists(shop.OutboxDirectory) && Directory.EnumerateFiles(shop.OutboxDirectory).Any())
            .Should().BeFalse("no .eml is written to the localstorage outbox in this profile");

        // The events went through Redis Streams and the catalog cached in Redis: both are in its append-only file.
        var redisData = Path.Combine(shop.Folder, "data", "redis");
        var aof = string.Concat(Directory.GetFiles(redisData, "*.aof*", SearchOption.AllDirectories).Select(File.ReadAllText));
        aof.Should().Contain("XADD").And.Contain("ordering.order-confirmed").And.Contain("pg-order-1", "the confirmation event was added to its topic's stream");
        aof.Should().Contain("catalog||", "the catalog's cache entries are Redis hashes");
        File.ReadAllText(Path.Combine(redisData, "redis.conf")).Should().StartWith("requirepass", "the server takes the password the AppHost generated");
    }
}
