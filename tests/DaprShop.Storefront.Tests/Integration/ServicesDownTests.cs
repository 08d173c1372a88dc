using System.Net;
using DaprShop.Contracts;
using FluentAssertions;

namespace DaprShop.Storefront.Tests.Integration;

public sealed class CatalogDownFixture : IAsyncLifetime
{
    public Storefront Site { get; private set; } = null!;

    public async Task InitializeAsync() => Site = await Storefront.StartAsync(without: AppIds.Catalog);

    public async Task DisposeAsync() => await Site.DisposeAsync();
}

public sealed class BasketAndOrderingDownFixture : IAsyncLifetime
{
    public Storefront Site { get; private set; } = null!;

    public async Task InitializeAsync() => Site = await Storefront.StartAsync(AppIds.Basket, AppIds.Ordering);

    public async Task DisposeAsync() => await Site.DisposeAsync();
}

/// <summary>A core service that cannot be reached turns a page into a plain message (503), never an exception page.</summary>
public sealed class CatalogDownTests(CatalogDownFixture fixture) : IClassFixture<CatalogDownFixture>
{
    [Theory]
    [InlineData("/")]
    [InlineData("/catalog?q=lamp")]
    [InlineData("/products/p-lamp")]
    public async Task Pages_that_show_products_say_plainly_that_the_catalogue_is_unavailable(string url)
    {
        using var browser = fixture.Site.CreateBrowser();

        using var response = await browser.GetAsync(url);
        var html = await response.Content.ReadAsStringAsync();

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        html.Should().Contain("data-testid=\"service-unavailable\"").And.Contain("Our catalogue is taking a short break");
        html.Should().NotContain("Exception").And.NotContain("   at ").And.NotContain("ERR_DIRECT_INVOKE");
        html.Should().Contain("data-testid=\"basket-count\"", "the rest of the page still works");
    }

    [Fact]
    public async Task An_empty_basket_and_signing_in_do_not_need_the_catalogue()
    {
        using var browser = fixture.Site.CreateBrowser();

        using var basket = await browser.GetAsync("/basket");
        using var signIn = await Storefront.SignInAsync(browser, "ada@daprshop.test", "ada-demo-password");

        basket.StatusCode.Should().Be(HttpStatusCode.OK);
        (await basket.Content.ReadAsStringAsync()).Should().Contain("Your basket is empty.");
        signIn.StatusCode.Should().Be(HttpStatusCode.Redirect);
    }
}

public sealed class BasketAndOrderingDownTests(BasketAndOrderingDownFixture fixture) : IClassFixture<BasketAndOrderingDownFixture>
{
    [Fact]
    public async Task The_catalogue_still_shows_and_only_the_basket_count_is_missing()
    {
        using var browser = fixture.Site.CreateBrowser();

        using var response = await browser.GetAsync("/catalog");
        var html = await response.Content.ReadAsStringAsync();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        html.Should().Contain("Desk Lamp").And.Contain("aria-label=\"basket count unavailable\">–<");
    }

    [Fact]
    public async Task The_basket_page_and_adding_to_it_say_the_basket_cannot_be_reached()
    {
        using var browser = fixture.Site.CreateBrowser();

        using var page = await browser.GetAsync("/basket");
        using var add = await Storefront.PostFormAsync(browser, "/products/p-lamp", "/basket/add", [new("ProductId", "p-lamp"), new("Quantity", "1"), new("ReturnUrl", "/products/p-lamp")]);
        var after = await browser.GetStringAsync(add.Headers.Location!.OriginalString);

        page.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await page.Content.ReadAsStringAsync()).Should().Contain("Your basket cannot be reached right now").And.NotContain("Exception");
        add.Headers.Location!.OriginalString.Should().Be("/products/p-lamp?notice=basket-unavailable");
        after.Should().Contain("Your basket cannot be reached right now, so nothing was changed.");
    }

    [Fact]
    public async Task Order_history_says_orders_cannot_be_reached()
    {
        using var browser = fixture.Site.CreateBrowser();
        (await Storefront.SignInAsync(browser, "ada@daprshop.test", "ada-demo-password")).Dispose();

        using var response = await browser.GetAsync("/orders");

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        (await response.Content.ReadAsStringAsync()).Should().Contain("Orders cannot be reached right now").And.NotContain("   at ");
    }
}
