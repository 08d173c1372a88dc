using Microsoft.Playwright;

namespace DaprShop.AppHost.Tests.Browser;

/// <summary>
/// Debian's Chromium (<c>/usr/bin/chromium</c>) driven by Playwright; Playwright's own browser download is never
/// used (these machines cannot download it). Each test gets a fresh context: its own cookies, so its own shopper.
/// </summary>
public sealed class Browser : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public async Task InitializeAsync()
    {
        if (!File.Exists(Chromium))
        {
            throw new InvalidOperationException($"{Chromium} is missing: apt-get install -y chromium (tests/run-all.sh installs it)");
        }
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            // As root, without a GPU, and with no route to Google's services (every background request would fail).
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    /// <summary>A new page in a new context; its screenshots go to <c>artifacts/screenshots/{test}/</c>.</summary>
    public async Task<ShopPage> OpenAsync(Uri gateway, string test)
    {
        var context = await _browser!.NewContextAsync(new() { BaseURL = gateway.ToString(), ViewportSize = new() { Width = 1280, Height = 900 } });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        // What the browser saw go wrong (script errors, refused requests) is kept beside the screenshots.
        var folder = ShopPage.ScreenshotFolder(test);
        Directory.CreateDirectory(folder);
        var log = Path.Combine(folder, "browser.log");
        File.WriteAllText(log, "");
        page.Console += (_, message) => File.AppendAllText(log, $"console {message.Type}: {message.Text}{Environment.NewLine}");
        page.PageError += (_, error) => File.AppendAllText(log, $"page error: {error}{Environment.NewLine}");
        page.RequestFailed += (_, request) => File.AppendAllText(log, $"request failed: {request.Method} {request.Url} {request.Failure}{Environment.NewLine}");
        page.WebSocket += (_, socket) => File.AppendAllText(log, $"websocket: {socket.Url}{Environment.NewLine}");
        return new ShopPage(context, page, test);
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
        _playwright?.Dispose();
    }
}

/// <summary>The storefront as a shopper sees it, by its stable <c>data-testid</c> hooks (docs/storefront.md).</summary>
public sealed class ShopPage(IBrowserContext context, IPage page, string test) : IAsyncDisposable
{
    private int _step;

    public IPage Page => page;

    public static string ScreenshotFolder(string test) => Path.Combine(DaprShop.Testing.Repo.Root, "artifacts", "screenshots", test);

    public ILocator ById(string testId) => page.GetByTestId(testId);

    public async Task ScreenshotAsync(string step)
    {
        var folder = ScreenshotFolder(test);
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, $"{++_step:00}-{step}.png"), FullPage = true });
    }

    public async Task SearchAsync(string text)
    {
        await ById("search-box").FillAsync(text);
        await ById("search-box").PressAsync("Enter");
        await page.WaitForURLAsync("**/catalog?**");
    }

    public async Task SignInAsync(string email, string password)
    {
        await ById("signin-email").FillAsync(email);
        await ById("signin-password").FillAsync(password);
        await ById("signin-submit").ClickAsync();
        await ById("sign-out").WaitForAsync();
    }

    public async Task FillCheckoutAsync(string cardNumber)
    {
        await ById("checkout-name").FillAsync("Ada Lovelace");
        await ById("checkout-line1").FillAsync("12 Analytical Row");
        await ById("checkout-city").FillAsync("London");
        await ById("checkout-postal-code").FillAsync("NW1 2AB");
        await ById("checkout-country").SelectOptionAsync(new SelectOptionValue { Index = 1 });
        await ById("checkout-card-number").FillAsync(cardNumber);
        await ById("checkout-card-holder").FillAsync("Ada Lovelace");
        await ById("checkout-expiry").FillAsync("12/" + (DateTime.UtcNow.Year % 100 + 2).ToString("00", System.Globalization.CultureInfo.InvariantCulture));
        await ById("checkout-cvc").FillAsync("123");
    }

    public async ValueTask DisposeAsync() => await context.DisposeAsync();
}
