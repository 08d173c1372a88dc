using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using DaprShop.Contracts;
using DaprShop.Testing;
using FluentAssertions;

namespace DaprShop.Shop.Tests;

/// <summary>What several whole-shop tests do: find stock to buy, read a mail, publish an event as a broker would redeliver it.</summary>
internal static class ShopTestKit
{
    /// <summary>
    /// Products of <paramref name="category"/> the catalog lists as in stock and inventory holds at least
    /// <paramref name="minAvailable"/> of. Each test shops in its own category, so the tests of one shop never
    /// compete for the same stock.
    /// </summary>
    public static async Task<IReadOnlyList<(ProductDto Product, StockDto Stock)>> PickInStockAsync(ShopClient shop, string category, int count, int minAvailable)
    {
        var page = await shop.ListProductsAsync($"category={Uri.EscapeDataString(category)}&inStock=true&pageSize=50");
        var picked = new List<(ProductDto, StockDto)>();
        foreach (var product in page.Items)
        {
            var stock = await shop.GetStockAsync(product.ProductId);
            if (stock.Available >= minAvailable)
            {
                picked.Add((product, stock));
                if (picked.Count == count)
                {
                    return picked;
                }
            }
        }
        throw new InvalidOperationException($"the seeded catalog has fewer than {count} {category} products with {minAvailable}+ units available");
    }

    public static string MailPath(WholeShop shop, string orderId, string kind) => Path.Combine(shop.OutboxDirectory, $"{orderId}-{kind}.eml");

    /// <summary>
    /// The mail once its file is complete (the sidecar creates the file, then writes it), with quoted-printable soft
    /// line breaks joined so that a test can look for a sentence.
    /// </summary>
    public static async Task<string> ReadMailAsync(string path)
    {
        await Eventually.HoldsAsync(() => File.Exists(path) && new FileInfo(path).Length > 0, TimeSpan.FromSeconds(30), $"{Path.GetFileName(path)} reaches the outbox");
        string text = "";
        await Eventually.HoldsAsync(() =>
        {
            try
            {
                text = File.ReadAllText(path);
                return text.Contains("\r\n\r\n", StringComparison.Ordinal);
            }
            catch (IOException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(10), $"{Path.GetFileName(path)} is readable");
        return text.Replace("=\r\n", "", StringComparison.Ordinal);
    }

    /// <summary>
    /// Publishes a CloudEvent made by the caller (<c>application/cloudevents+json</c>), so its id is the caller's: what a
    /// broker's redelivery looks like to a subscriber.
    /// </summary>
    public static async Task PublishCloudEventAsync(WholeShop shop, string topic, string id, object data)
    {
        var cloudEvent = new
        {
            specversion = "1.0",
            id,
            source = AppIds.Ordering,
            type = "com.dapr.event.sent",
            datacontenttype = "application/json",
            data,
        };
        using var http = shop.Gateway.CreateHttpClient();
        using var content = new StringContent(JsonSerializer.Serialize(cloudEvent, ShopClient.Json), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/cloudevents+json");
        using var response = await http.PostAsync($"/v1.0/publish/{Components.PubSub}/{topic}", content);
        response.IsSuccessStatusCode.Should().BeTrue(await response.Content.ReadAsStringAsync());
    }
}
