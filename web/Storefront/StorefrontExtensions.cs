using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using Dapr.Client;
using DaprShop.Contracts;
using DaprShop.Storefront.Accounts;
using DaprShop.Storefront.Components;
using DaprShop.Storefront.Services;
using DaprShop.Storefront.Shopping;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace DaprShop.Storefront;

public static class StorefrontExtensions
{
    public static TBuilder AddStorefront<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<StorefrontOptions>()
            .BindConfiguration(StorefrontOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<StorefrontOptions>, StorefrontOptionsValidator>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => new PriceFormatter(CultureInfo.GetCultureInfo(sp.GetRequiredService<IOptions<StorefrontOptions>>().Value.Culture)));
        builder.Services.AddSingleton<AccountDirectory>();

        // One typed client per service, each reaching it only through this app's own Dapr sidecar (service
        // invocation); the short timeout turns a hanging service into a plain message instead of a hanging page.
        AddServiceClient<CatalogClient>(builder.Services, AppIds.Catalog);
        AddServiceClient<BasketClient>(builder.Services, AppIds.Basket);
        AddServiceClient<InventoryClient>(builder.Services, AppIds.Inventory);
        AddServiceClient<OrderingClient>(builder.Services, AppIds.Ordering);

        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        // Pages are UTF-8: write "€" and "–" as themselves rather than as character references.
        builder.Services.AddSingleton(HtmlEncoder.Create(UnicodeRanges.All));
        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddAuthentication(ShopperIdentity.Scheme).AddCookie(o =>
        {
            o.Cookie.Name = "daprshop-auth";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.LoginPath = "/account/signin";
            o.LogoutPath = "/account/signout";
            o.AccessDeniedPath = "/account/denied";
            o.ReturnUrlParameter = "returnUrl";
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.SlidingExpiration = true;
        });
        builder.Services.AddAuthorization();
        // Behind the edge gateway the browser's host and scheme arrive as X-Forwarded-*: redirects must use them.
        builder.Services.Configure<ForwardedHeadersOptions>(o =>
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost);
        return builder;
    }

    private static void AddServiceClient<TClient>(IServiceCollection services, string appId) where TClient : class =>
        services.AddHttpClient<TClient>((sp, http) =>
            {
                http.BaseAddress = new Uri($"http://{appId}/");
                http.Timeout = sp.GetRequiredService<IOptions<StorefrontOptions>>().Value.ServiceTimeout;
            })
            .AddHttpMessageHandler(() => new InvocationHandler());

    /// <summary>The storefront's middleware, after the service defaults: friendly error pages, the anonymous shopper, sign-in, antiforgery.</summary>
    public static WebApplication UseStorefront(this WebApplication app)
    {
        app.UseForwardedHeaders();
        // Inside the defaults' JSON problem handler: a browser gets a page, never a stack trace.
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandlingPath = "/error",
            CreateScopeForErrors = true,
            // A bad request (an expired antiforgery token, a malformed form) stays a 400, not a server error.
            StatusCodeSelector = e => e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
        // Those pages are re-executed with the failed request's method: as a GET, a failed form post (say, one with an
        // expired antiforgery token) renders the page instead of being read as a form again and failing again.
        app.Use((http, next) =>
        {
            if (http.Features.Get<IExceptionHandlerFeature>() is not null || http.Features.Get<IStatusCodeReExecuteFeature>() is not null)
            {
                http.Request.Method = HttpMethods.Get;
            }
            return next(http);
        });
        app.UseAnonymousShopper();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
        return app;
    }

    public static WebApplication MapStorefront(this WebApplication app)
    {
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        app.MapPictures();
        app.MapBasketForms();
        app.MapAccountForms();
        return app;
    }
}
