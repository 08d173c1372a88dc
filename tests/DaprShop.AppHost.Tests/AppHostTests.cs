using System.Net;
using System.Net.Http.Json;
using DaprShop.Contracts;
using DaprShop.Testing;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;

namespace DaprShop.AppHost.Tests;

[Collection(ShopCollection.Name)]
public sealed class AppHostTests(RunningShop shop)
{
    [Fact]
    public async Task Every_resource_becomes_healthy_and_the_storefront_answers_through_the_gateway()
    {
        using var http = shop.Host.CreateGatewayClient();

        var page = await http.GetAsync("/");

        page.StatusCode.Should().Be(HttpStatusCode.OK);
        (await page.Content.ReadAsStringAsync()).Should().Contain("DaprShop");
    }

    [Fact]
    public void Every_port_the_apphost_chooses_lies_below_the_ephemeral_range()
    {
        // An ephemeral port can be taken by any process's outgoing connection before the app binds it.
        var ports = shop.Host.App.Services.GetRequiredService<Aspire.Hosting.ApplicationModel.DistributedApplicationModel>().Resources
            .SelectMany(r => r.Annotations.OfType<Aspire.Hosting.ApplicationModel.EndpointAnnotation>())
            .Where(e => e.Port is not null && e.Port != shop.Host.Gateway.Port) // the gateway's is the test's choice
            .Select(e => e.Port!.Value)
            .ToList();

        ports.Should().HaveCountGreaterThan(20, "every app and sidecar has ports of the AppHost's choosing");
        ports.Should().OnlyContain(p => p >= 20000 && p <= 32767);
    }

    [Fact]
    public async Task The_apis_answer_through_the_gateway_and_a_service_refuses_calls_that_bypass_its_sidecar()
    {
        using var gateway = shop.Host.CreateGatewayClient();
        var products = await gateway.GetFromJsonAsync<ProductPage>("/api/v1/catalog/products?pageSize=3");
        products!.Items.Should().HaveCount(3);

        using var direct = shop.Host.CreateDirectClient(AppIds.Catalog);
        var bypass = await direct.GetAsync("/api/v1/catalog/products?pageSize=3");
        bypass.StatusCode.Should().Be(HttpStatusCode.Unauthorized, "only the catalog's own sidecar presents the app API token");
        (await direct.GetAsync("/health")).StatusCode.Should().Be(HttpStatusCode.OK, "health probes come from the orchestrator, not through Dapr");
    }

    [Fact]
    public void The_local_mesh_runs_every_service_and_sidecar_with_write_xor_execute_off()
    {
        foreach (var (resource, program) in Apps.SelectMany(a => new[] { (a.AppId, a.Program), ($"{a.AppId}-dapr", "daprshop-sidecar") }))
        {
            // The orchestrator's process for the resource, and what it started (a project may run under "dotnet run").
            var pid = shop.Host.ProcessIdOf(resource);
            var tree = CodeMappings.Descendants(pid).Prepend((Pid: pid, CommandLine: CodeMappings.CommandLineOf(pid)));
            var process = tree.Where(p => Runs(p.CommandLine, program)).Should()
                .ContainSingle($"{resource} runs {program}").Subject;
            CodeMappings.WriteXorExecuteIsOn(process.Pid).Should().BeFalse($"{resource} runs as the local mesh runs it (docs/apphost.md)");
        }
    }

    /// <summary>The program itself (its native launcher or its dll under <c>dotnet</c>), not the <c>dotnet run</c> that built its path.</summary>
    private static bool Runs(string commandLine, string program) =>
        commandLine.Split(' ').Select(Path.GetFileName).Any(name => name == program || name == program + ".dll");

    private static readonly (string AppId, string Program)[] Apps =
    [
        (AppIds.Catalog, "DaprShop.Catalog"), (AppIds.Basket, "DaprShop.Basket"), (AppIds.Inventory, "DaprShop.Inventory"),
        (AppIds.Ordering, "DaprShop.Ordering"), (AppIds.Payment, "DaprShop.Payment"), (AppIds.Notifications, "DaprShop.Notifications"),
        (AppIds.Storefront, "DaprShop.Storefront"), (AppIds.Gateway, "DaprShop.Gateway"),
    ];

    private sealed record ProductPage(IReadOnlyList<ProductSummary> Items, int TotalCount);

    private sealed record ProductSummary(string ProductId, string Name);
}

/// <summary>A restart of the whole shop on the same data folder: nothing a shopper did is gone.</summary>
public sealed class RestartTests
{
    [Fact]
    public async Task Baskets_and_stock_survive_a_restart_of_the_whole_shop()
    {
        var folder = ShopHost.NewFolder();
        const string shopper = "restart-shopper";
        int onHandBefore;
        await using (var first = await ShopHost.StartAsync(folder))
        {
            using var http = first.CreateGatewayClient();
            (await http.PostAsJsonAsync($"/api/v1/baskets/{shopper}/items", new { productId = "p-0007", quantity = 3 })).EnsureSuccessStatusCode();
            (await http.PostAsJsonAsync("/api/v1/inventory/p-0007/restock", new { quantity = 5 })).EnsureSuccessStatusCode();
            onHandBefore = (await http.GetFromJsonAsync<Stock>("/api/v1/inventory/p-0007"))!.OnHand;
        }

        await using var second = await ShopHost.StartAsync(folder);
        using var after = second.CreateGatewayClient();
        var basket = await after.GetFromJsonAsync<Basket>($"/api/v1/baskets/{shopper}");
        basket!.Items.Should().ContainSingle(i => i.ProductId == "p-0007" && i.Quantity == 3);
        (await after.GetFromJsonAsync<Stock>("/api/v1/inventory/p-0007"))!.OnHand.Should().Be(onHandBefore);
    }

    private sealed record Basket(IReadOnlyList<BasketLine> Items);

    private sealed record BasketLine(string ProductId, int Quantity);

    private sealed record Stock(int OnHand);
}
