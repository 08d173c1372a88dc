using System.Net.Http.Json;
using FluentAssertions;
using Npgsql;

namespace DaprShop.AppHost.Tests;

/// <summary>The postgres profile: the AppHost starts PostgreSQL from the local binaries (no container engine here) first.</summary>
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
    }
}
