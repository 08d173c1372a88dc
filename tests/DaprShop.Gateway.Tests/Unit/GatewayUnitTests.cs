using System.ComponentModel.DataAnnotations;
using DaprShop.Gateway.Edge;
using DaprShop.Gateway.Proxy;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace DaprShop.Gateway.Tests.Unit;

public sealed class GatewayUnitTests
{
    [Theory]
    [InlineData("""{"errorCode":"ERR_DIRECT_INVOKE","message":"failed to invoke, id: catalog, err: couldn't find service: catalog"}""", true)]
    [InlineData("""{"errorCode":"NOT_DAPR","message":"x"}""", false)]
    [InlineData("""{"type":"https://tools.ietf.org/html/rfc9110#section-15.6.1","status":500}""", false)]
    [InlineData("""[1,2]""", false)]
    [InlineData("""not json""", false)]
    public void Only_daprs_own_error_documents_count_as_dapr_errors(string body, bool isDapr)
    {
        DaprErrors.TryParse(System.Text.Encoding.UTF8.GetBytes(body), out var code, out _).Should().Be(isDapr);
        if (isDapr)
        {
            code.Should().Be("ERR_DIRECT_INVOKE");
        }
    }

    [Theory]
    [InlineData(500, "failed to invoke, id: catalog, err: context deadline exceeded", 504)]
    [InlineData(504, "timeout", 504)]
    [InlineData(500, "failed to invoke, id: catalog, err: couldn't find service: catalog", 503)]
    [InlineData(500, "failed to invoke, id: catalog, err: circuit breaker is open", 503)]
    [InlineData(403, "failed to invoke, id: catalog, err: access control policy has denied access", 502)]
    public void A_dapr_timeout_is_a_504_whether_daprd_says_504_or_context_deadline_exceeded(int daprStatus, string message, int expected) =>
        DaprErrors.ProblemFor(daprStatus, message, "catalog").Status.Should().Be(expected);

    [Theory]
    [InlineData("/api/v1/catalog/products/p-0001/picture", true)]
    [InlineData("/api/v1/catalog/products/p-0001", false)]
    [InlineData("/api/v1/catalog/products/p-0001/picture/extra", false)]
    public void Product_pictures_are_recognised_by_their_route(string path, bool isPicture) =>
        StaticAssets.IsProductPicture(new PathString(path)).Should().Be(isPicture);

    [Theory]
    [InlineData("/_framework/blazor.web.js", true)]
    [InlineData("/_content/Some.Library/lib.css", true)]
    [InlineData("/css/app.4f2a.css", true)]
    [InlineData("/images/logo.SVG", true)]
    [InlineData("/", false)]
    [InlineData("/products/lamp", false)]
    public void Storefront_static_files_are_recognised_by_folder_or_extension(string path, bool isAsset) =>
        StaticAssets.IsStorefrontAsset(new PathString(path)).Should().Be(isAsset);

    [Theory]
    [InlineData("theme=dark", false)]
    [InlineData(".AspNetCore.Cookies=x", true)]
    [InlineData(".AspNetCore.CookiesC1=x; .AspNetCore.CookiesC2=y", true)]
    [InlineData(".AspNetCore.Identity.Application=x", true)]
    [InlineData(".AspNetCore.Antiforgery.abc=x", false)]
    public void Auth_cookies_are_recognised_by_name_or_prefix(string cookies, bool signedIn)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Cookie = cookies;

        CatalogReadsPolicy.HasAuthCookie(context.Request, new CachingOptions().AuthCookies).Should().Be(signedIn);
    }

    [Fact]
    public void Configured_auth_cookies_add_to_the_default_ones()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Gateway:Caching:AuthCookies:0"] = "shop-session" });
        builder.AddGateway();
        using var host = builder.Build();

        host.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.Caching.AuthCookies
            .Should().Equal(".AspNetCore.Cookies", ".AspNetCore.Identity.", "shop-session");
    }

    [Fact]
    public void The_sidecar_is_found_as_the_dapr_sdks_find_it()
    {
        static DaprSidecar From(params (string Key, string Value)[] settings) =>
            DaprSidecar.From(new ConfigurationBuilder().AddInMemoryCollection(settings.ToDictionary(s => s.Key, s => (string?)s.Value)).Build());

        From().Should().Be(new DaprSidecar(new Uri("http://127.0.0.1:3500"), null));
        From(("DAPR_HTTP_PORT", "3601"), ("DAPR_API_TOKEN", "t")).Should().Be(new DaprSidecar(new Uri("http://127.0.0.1:3601"), "t"));
        From(("DAPR_HTTP_ENDPOINT", "http://sidecar.local:3500"), ("DAPR_HTTP_PORT", "3601")).HttpEndpoint.Should().Be(new Uri("http://sidecar.local:3500"));
    }

    [Fact]
    public void Options_name_every_invalid_setting()
    {
        var options = new GatewayOptions
        {
            StorefrontUrl = "storefront:80",
            TrustedProxies = ["10.0.0.1", "10.1.0.0/16", "proxy.local"],
            RateLimit = new RateLimitOptions { PermitLimit = 0 },
            Admission = new AdmissionOptions { MaxConcurrentApiCalls = 0, MaxQueueMilliseconds = -1 },
            Caching = new CachingOptions { CatalogReadSeconds = -1 },
        };
        var results = new List<ValidationResult>();

        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true).Should().BeFalse();

        results.SelectMany(r => r.MemberNames).Should().BeEquivalentTo(["StorefrontUrl", "TrustedProxies", "RateLimit.PermitLimit", "Admission.MaxConcurrentApiCalls", "Admission.MaxQueueMilliseconds", "Caching.CatalogReadSeconds"]);
    }

    [Fact]
    public async Task A_gateway_with_invalid_options_does_not_start()
    {
        var builder = WebApplication.CreateBuilder(["--urls", "http://127.0.0.1:0"]);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Gateway:RateLimit:WindowSeconds"] = "0" });
        builder.AddGateway();
        await using var app = builder.Build();

        var start = () => app.StartAsync();

        (await start.Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Contain("RateLimit.WindowSeconds");
    }

    [Fact]
    public void The_storefront_address_from_service_discovery_wins_over_the_configured_one()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:StorefrontUrl"] = "http://localhost:5999",
            ["services:storefront:http:0"] = "http://localhost:6123",
        });
        builder.AddGateway();
        using var host = builder.Build();

        host.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.StorefrontUrl.Should().Be("http://localhost:6123");
    }
}
