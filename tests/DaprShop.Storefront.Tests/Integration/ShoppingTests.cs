using System.Net;
using DaprShop.Contracts;
using FluentAssertions;

namespace DaprShop.Storefront.Tests.Integration;

public sealed class StorefrontFixture : IAsyncLifetime
{
    public Storefront Site { get; private set; } = null!;

    public async Task InitializeAsync() => Site = await Storefront.StartAsync();

    public async Task DisposeAsync() => await Site.DisposeAsync();
}

/// <summary>Server-rendered pages of the real storefront process, every service reached through its sidecar. Each test browses with its own cookies.</summary>
public sealed class ShoppingTests(StorefrontFixture fixture) : IClassFixture<StorefrontFixture>
{
    private Storefront Site => fixture.Site;

    [Fact]
    public async Task The_catalog_page_lists_the_catalogs_products_with_prices_in_the_shops_culture()
    {
        using var browser = Site.CreateBrowser();

        using var response = await browser.GetAsync("/catalog");
        var html = await response.Content.ReadAsStringAsync();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        html.Should().Contain("Desk Lamp").And.Contain("Office Chair").And.Contain("Enamel Mug");
        html.Should().Contain(">€49.90<").And.Contain(">€1,299.00<").And.Contain(">€12.50<");
        html.Should().Contain("value=\"49.90\"", "prices are machine-readable too");
        html.Should().Contain("data-testid=\"search-box\"").And.Contain("data-testid=\"basket-count\"");
        html.Should().Contain("src=\"/pictures/p-lamp\"", "pictures are served by the storefront itself");
        html.Should().Contain("Out of stock", "an unavailable product cannot be added");
    }

    [Fact]
    public async Task Filters_in_the_query_string_reach_the_catalog_in_its_own_terms()
    {
        using var browser = Site.CreateBrowser();

        using var response = await browser.GetAsync("/catalog?q=lamp&category=Lighting&min=10&max=49.50&sort=-price&page=2");
        var html = await response.Content.ReadAsStringAsync();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        Site.Catalog!.RequestsTo("/api/v1/catalog/products").Select(r => r.Query)
            .Should().Contain("?q=lamp&category=Lighting&minPrice=1000&maxPrice=4950&sort=-price&page=2&pageSize=24");
        html.Should().Contain("value=\"49.50\"", "the form shows the filters it was given");
        html.Should().Contain("<option value=\"Lighting\" selected");
    }

    [Fact]
    public async Task The_product_page_shows_the_product_its_stock_and_a_picture_served_through_dapr()
    {
        using var browser = Site.CreateBrowser();

        using var page = await browser.GetAsync("/products/p-lamp");
        var html = await page.Content.ReadAsStringAsync();
        using var picture = await browser.GetAsync("/pictures/p-lamp");
        using var unknown = await browser.GetAsync("/products/p-nothing");

        page.StatusCode.Should().Be(HttpStatusCode.OK);
        html.Should().Contain("data-testid=\"product-name\">Desk Lamp<").And.Contain(">€49.90<").And.Contain("Only 3 left")
            .And.Contain("The desk lamp everybody wants.").And.Contain("colour").And.Contain("data-testid=\"add-to-basket\"");
        picture.StatusCode.Should().Be(HttpStatusCode.OK);
        picture.Content.Headers.ContentType!.MediaType.Should().Be("image/svg+xml");
        (await picture.Content.ReadAsStringAsync()).Should().Contain("<title>p-lamp</title>");
        picture.Headers.ETag!.Tag.Should().Be("\"pic-1\"");
        picture.Content.Headers.Should().NotBeNull();
        picture.Headers.GetValues("Content-Security-Policy").Single().Should().Contain("default-src 'none'");
        unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await unknown.Content.ReadAsStringAsync()).Should().Contain("data-testid=\"not-found\"");
    }

    [Fact]
    public async Task Adding_to_the_basket_goes_through_dapr_and_the_header_counts_the_items()
    {
        using var browser = Site.CreateBrowser();

        using var added = await Storefront.PostFormAsync(browser, "/products/p-lamp", "/basket/add",
            [new("ProductId", "p-lamp"), new("Quantity", "2"), new("ReturnUrl", "/products/p-lamp")]);
        var location = added.Headers.Location!.OriginalString;
        var html = await browser.GetStringAsync(location);
        var basket = await browser.GetStringAsync("/basket");

        added.StatusCode.Should().Be(HttpStatusCode.Redirect);
        location.Should().Be("/products/p-lamp?notice=added");
        html.Should().Contain("Added to your basket.").And.Contain("aria-label=\"2 items in your basket\">2<");
        Site.Baskets.Should().Contain(b => b.Key.StartsWith("anon-") && b.Value.Any(l => l.ProductId == "p-lamp" && l.Quantity == 2));
        basket.Should().Contain("data-testid=\"basket-line\"").And.Contain("Desk Lamp").And.Contain(">€99.80<");
    }

    [Fact]
    public async Task A_form_posted_without_its_antiforgery_token_is_refused()
    {
        using var browser = Site.CreateBrowser();
        await browser.GetStringAsync("/products/p-lamp");

        using var forged = await browser.PostAsync("/basket/add", new FormUrlEncodedContent([new("ProductId", "p-lamp"), new("Quantity", "1"), new("ReturnUrl", "/")]));

        forged.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await forged.Content.ReadAsStringAsync()).Should().Contain("That form could not be sent").And.NotContain("Antiforgery");
    }

    [Fact]
    public async Task Signing_in_with_a_demo_account_keeps_what_was_put_in_the_basket_before()
    {
        using var browser = Site.CreateBrowser();
        (await Storefront.PostFormAsync(browser, "/products/p-chair", "/basket/add", [new("ProductId", "p-chair"), new("Quantity", "1"), new("ReturnUrl", "/")])).Dispose();

        using var signIn = await Storefront.SignInAsync(browser, "grace@daprshop.test", "grace-demo-password", returnUrl: "/basket");
        var basket = await browser.GetStringAsync("/basket");

        signIn.StatusCode.Should().Be(HttpStatusCode.Redirect);
        signIn.Headers.Location!.OriginalString.Should().EndWith("/basket");
        signIn.Headers.GetValues("Set-Cookie").Should().Contain(c => c.StartsWith("daprshop-auth=") && c.Contains("httponly"));
        Site.Basket!.Requests.Should().Contain(r => r.Method == "POST" && r.Path.StartsWith("/api/v1/baskets/grace/merge/anon-"));
        basket.Should().Contain("data-testid=\"signed-in-as\">Grace Hopper<").And.Contain("Office Chair");
    }

    [Fact]
    public async Task A_wrong_password_signs_nobody_in_and_says_so_plainly()
    {
        using var browser = Site.CreateBrowser();

        using var response = await Storefront.SignInAsync(browser, "ada@daprshop.test", "not-the-password");
        var html = await response.Content.ReadAsStringAsync();

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        html.Should().Contain("That e-mail and password do not match an account.");
        (response.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : []).Should().NotContain(c => c.StartsWith("daprshop-auth="));
    }

    [Fact]
    public async Task Checkout_asks_to_sign_in_first()
    {
        using var browser = Site.CreateBrowser();

        using var response = await browser.GetAsync("/checkout");

        response.StatusCode.Should().Be(HttpStatusCode.Redirect);
        response.Headers.Location!.PathAndQuery.Should().Be("/account/signin?returnUrl=%2Fcheckout");
    }

    [Fact]
    public async Task A_checkout_sends_ordering_the_address_and_card_but_no_price_and_shows_the_order()
    {
        using var browser = Site.CreateBrowser();
        (await Storefront.SignInAsync(browser, "ada@daprshop.test", "ada-demo-password")).Dispose();
        (await Storefront.PostFormAsync(browser, "/products/p-lamp", "/basket/add", [new("ProductId", "p-lamp"), new("Quantity", "2"), new("ReturnUrl", "/")])).Dispose();
        var form = await browser.GetStringAsync("/checkout");
        var key = System.Text.RegularExpressions.Regex.Match(form, "name=\"Form.IdempotencyKey\"[^>]*value=\"([^\"]+)\"").Groups[1].Value;

        using var placed = await Storefront.PostFormAsync(browser, "/checkout", "/checkout", CheckoutFields(key));
        var order = await browser.GetStringAsync(placed.Headers.Location!.PathAndQuery);

        key.Should().StartWith("ord-");
        placed.StatusCode.Should().Be(HttpStatusCode.Redirect);
        placed.Headers.Location!.PathAndQuery.Should().Be("/orders/" + key);
        var sent = Site.Ordering!.RequestsTo("/api/v1/orders").Single(r => r.Headers["idempotency-key"] == key);
        sent.BodyText.Should().Contain("\"shopperId\":\"ada\"").And.Contain("\"number\":\"4242424242424242\"").And.Contain("\"email\":\"ada@daprshop.test\"")
            .And.Contain("\"postalCode\":\"N1 1AA\"").And.Contain("\"country\":\"GB\"");
        sent.BodyText.Should().NotContainAny("price", "amount", "total");
        order.Should().Contain("data-testid=\"order-status\" data-status=\"AwaitingPaymentConfirmation\"").And.Contain("Waiting for your bank")
            .And.Contain(">€99.80<").And.Contain("data-testid=\"order-timeline\"");
    }

    [Fact]
    public async Task An_invalid_checkout_form_shows_a_message_at_each_field_and_orders_nothing()
    {
        using var browser = Site.CreateBrowser();
        (await Storefront.SignInAsync(browser, "alan@daprshop.test", "alan-demo-password")).Dispose();
        (await Storefront.PostFormAsync(browser, "/products/p-lamp", "/basket/add", [new("ProductId", "p-lamp"), new("Quantity", "1"), new("ReturnUrl", "/")])).Dispose();
        var calls = Site.Ordering!.RequestsTo("/api/v1/orders").Count();

        using var response = await Storefront.PostFormAsync(browser, "/checkout", "/checkout",
        [
            new("_handler", "checkout"), new("Form.IdempotencyKey", "ord-invalid"), new("Form.Name", "Alan"), new("Form.Line1", ""),
            new("Form.City", "Wilmslow"), new("Form.PostalCode", "SK9"), new("Form.Country", "GB"), new("Form.CardNumber", "4242 4242 4242 4241"),
            new("Form.CardHolder", "Alan"), new("Form.Expiry", "01/20"), new("Form.Cvc", "12"),
        ]);
        var html = await response.Content.ReadAsStringAsync();

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        html.Should().Contain("<div class=\"validation-message\">Enter the street address.</div>")
            .And.Contain("Enter a valid card number (see the test cards).").And.Contain("This card has expired.")
            .And.Contain("Enter the 3 or 4 digits on the back of the card.");
        html.Should().Contain("value=\"Wilmslow\"", "what was typed is kept");
        Site.Ordering.RequestsTo("/api/v1/orders").Count().Should().Be(calls);
    }

    [Fact]
    public async Task When_ordering_cannot_answer_the_checkout_says_so_and_keeps_the_form()
    {
        using var browser = Site.CreateBrowser();
        (await Storefront.SignInAsync(browser, "alan@daprshop.test", "alan-demo-password")).Dispose();
        (await Storefront.PostFormAsync(browser, "/products/p-lamp", "/basket/add", [new("ProductId", "p-lamp"), new("Quantity", "1"), new("ReturnUrl", "/")])).Dispose();
        Site.OrderingFailure = HttpStatusCode.ServiceUnavailable;
        try
        {
            using var response = await Storefront.PostFormAsync(browser, "/checkout", "/checkout", CheckoutFields("ord-when-down"));
            var html = await response.Content.ReadAsStringAsync();

            response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
            html.Should().Contain("Orders cannot be reached right now. Nothing was ordered or charged").And.Contain("value=\"1 Main Street\"");
            html.Should().NotContain("Exception").And.NotContain("   at ");
        }
        finally
        {
            Site.OrderingFailure = null;
        }
    }

    [Fact]
    public async Task Another_shoppers_order_is_not_shown()
    {
        Site.Orders["ord-of-grace"] = Storefront.OrderJson("ord-of-grace", "grace", "Confirmed", ["Submitted", "StockReserved", "PaymentAuthorized", "Paid", "Confirmed"], null);
        using var browser = Site.CreateBrowser();
        (await Storefront.SignInAsync(browser, "ada@daprshop.test", "ada-demo-password")).Dispose();

        var html = await browser.GetStringAsync("/orders/ord-of-grace");

        html.Should().Contain("We could not find that order").And.NotContain("data-testid=\"order-status\"");
    }

    [Fact]
    public async Task The_back_office_is_for_back_office_accounts_only()
    {
        using var anonymous = Site.CreateBrowser();
        using var shopper = Site.CreateBrowser();
        (await Storefront.SignInAsync(shopper, "ada@daprshop.test", "ada-demo-password")).Dispose();
        using var staff = Site.CreateBrowser();
        (await Storefront.SignInAsync(staff, "backoffice@daprshop.test", "backoffice-demo-password")).Dispose();

        using var asAnonymous = await anonymous.GetAsync("/backoffice/products");
        using var asShopper = await shopper.GetAsync("/backoffice/products");
        using var asStaff = await staff.GetAsync("/backoffice/products");

        asAnonymous.Headers.Location!.PathAndQuery.Should().StartWith("/account/signin");
        asShopper.Headers.Location!.PathAndQuery.Should().StartWith("/account/denied");
        asStaff.StatusCode.Should().Be(HttpStatusCode.OK);
        (await asStaff.Content.ReadAsStringAsync()).Should().Contain("data-testid=\"backoffice-products\"").And.Contain("Desk Lamp");
    }

    private static KeyValuePair<string, string>[] CheckoutFields(string key) =>
    [
        new("_handler", "checkout"), new("Form.IdempotencyKey", key), new("Form.Name", "Ada Lovelace"), new("Form.Line1", "1 Main Street"),
        new("Form.City", "London"), new("Form.PostalCode", "n1 1aa"), new("Form.Country", "GB"), new("Form.CardNumber", "4242 4242 4242 4242"),
        new("Form.CardHolder", "Ada Lovelace"), new("Form.Expiry", "12/45"), new("Form.Cvc", "123"),
    ];
}
