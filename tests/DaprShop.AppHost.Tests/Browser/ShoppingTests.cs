using System.Net.Http.Json;
using System.Text.RegularExpressions;
using DaprShop.Testing;
using FluentAssertions;
using Microsoft.Playwright;

namespace DaprShop.AppHost.Tests.Browser;

/// <summary>A shopper in a real browser, against the whole shop started from the AppHost, through the gateway.</summary>
[Collection(ShopCollection.Name)]
public sealed partial class ShoppingTests(RunningShop shop, Browser browser) : IClassFixture<Browser>
{
    private const string ApprovingCard = "4242424242424242";
    private const string DecliningCard = "4000000000000002";

    [Fact]
    public async Task A_shopper_searches_adds_two_products_pays_and_watches_the_order_reach_confirmed()
    {
        await using var shopper = await browser.OpenAsync(shop.Host.Gateway, nameof(A_shopper_searches_adds_two_products_pays_and_watches_the_order_reach_confirmed));
        await shopper.Page.GotoAsync("/");
        await shopper.ScreenshotAsync("home");

        await shopper.SearchAsync("camera");
        var buttons = shopper.ById("add-to-basket").Locator(":scope:not([disabled])");
        (await buttons.CountAsync()).Should().BeGreaterThanOrEqualTo(2);
        await shopper.ScreenshotAsync("search-results");
        await buttons.Nth(0).ClickAsync();
        await Assertions.Expect(shopper.ById("basket-count")).ToHaveTextAsync("1");
        await buttons.Nth(1).ClickAsync();
        await Assertions.Expect(shopper.ById("basket-count")).ToHaveTextAsync("2");

        await shopper.ById("basket-link").ClickAsync();
        await Assertions.Expect(shopper.ById("basket-line")).ToHaveCountAsync(2);
        await shopper.ScreenshotAsync("basket");
        await shopper.ById("checkout-link").ClickAsync();
        await shopper.SignInAsync("ada@daprshop.test", "ada-demo-password");
        await shopper.Page.WaitForURLAsync("**/checkout");
        await shopper.FillCheckoutAsync(ApprovingCard);
        await shopper.ScreenshotAsync("checkout");
        await shopper.ById("place-order").ClickAsync();

        await shopper.Page.WaitForURLAsync(OrderPage());
        await Assertions.Expect(shopper.ById("order-status")).ToHaveAttributeAsync("data-status", "Confirmed", new() { Timeout = 60_000 });
        await shopper.ScreenshotAsync("confirmed");
        await Assertions.Expect(shopper.ById("basket-count")).ToHaveTextAsync("0");
    }

    [Fact]
    public async Task A_declining_card_shows_the_failure_and_the_stock_comes_back()
    {
        await using var shopper = await browser.OpenAsync(shop.Host.Gateway, nameof(A_declining_card_shows_the_failure_and_the_stock_comes_back));
        using var api = shop.Host.CreateGatewayClient();
        await shopper.Page.GotoAsync("/account/signin");
        await shopper.SignInAsync("grace@daprshop.test", "grace-demo-password");
        await shopper.SearchAsync("lamp");
        var button = shopper.ById("add-to-basket").Locator(":scope:not([disabled])").First;
        var productId = await button.GetAttributeAsync("data-product-id");
        var before = await api.GetFromJsonAsync<Stock>($"/api/v1/inventory/{productId}");
        await button.ClickAsync();
        await Assertions.Expect(shopper.ById("basket-count")).ToHaveTextAsync("1");

        await shopper.Page.GotoAsync("/checkout");
        await shopper.FillCheckoutAsync(DecliningCard);
        await shopper.ById("place-order").ClickAsync();

        await shopper.Page.WaitForURLAsync(OrderPage());
        await Assertions.Expect(shopper.ById("order-status")).ToHaveAttributeAsync("data-status", "Failed", new() { Timeout = 60_000 });
        await Assertions.Expect(shopper.ById("failure-reason")).ToContainTextAsync(new Regex("declined", RegexOptions.IgnoreCase));
        await shopper.ScreenshotAsync("declined");
        await Eventually.AssertAsync(async () =>
            (await api.GetFromJsonAsync<Stock>($"/api/v1/inventory/{productId}")).Should().BeEquivalentTo(before, "the reservation was released"));
    }

    [Fact]
    public async Task An_anonymous_basket_survives_sign_in()
    {
        await using var shopper = await browser.OpenAsync(shop.Host.Gateway, nameof(An_anonymous_basket_survives_sign_in));
        await shopper.Page.GotoAsync("/");
        await shopper.SearchAsync("chair");
        var button = shopper.ById("add-to-basket").Locator(":scope:not([disabled])").First;
        var productId = await button.GetAttributeAsync("data-product-id");
        await button.ClickAsync();
        await Assertions.Expect(shopper.ById("basket-count")).ToHaveTextAsync("1");
        await shopper.ScreenshotAsync("anonymous-basket");

        await shopper.ById("sign-in-link").ClickAsync();
        await shopper.SignInAsync("alan@daprshop.test", "alan-demo-password");

        await Assertions.Expect(shopper.ById("basket-count")).ToHaveTextAsync("1");
        await shopper.Page.GotoAsync("/basket");
        await Assertions.Expect(shopper.ById("basket-line")).ToHaveCountAsync(1);
        await Assertions.Expect(shopper.ById("basket-line").Locator($"[href='/products/{productId}']").First).ToBeVisibleAsync();
        await shopper.ScreenshotAsync("signed-in-basket");
    }

    [GeneratedRegex(@"/orders/[^/?]+$")]
    private static partial Regex OrderPage();

    private sealed record Stock(int OnHand, int Reserved, int Available);
}
