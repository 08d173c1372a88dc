using System.Net;
using DaprShop.Contracts;
using DaprShop.Gateway.Edge;
using DaprShop.Gateway.Proxy;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;

namespace DaprShop.Gateway;

public static class GatewayExtensions
{
    /// <summary>Where the gateway listens when nothing (<c>--urls</c>, <c>ASPNETCORE_URLS</c>, Kestrel endpoints) says otherwise.</summary>
    public const string DefaultUrl = "http://localhost:5080";

    public static TBuilder AddGateway<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<GatewayOptions>()
            .BindConfiguration(GatewayOptions.Section)
            .PostConfigure<IConfiguration>((options, configuration) =>
            {
                // Aspire's service discovery form: services__storefront__http__0 (or https).
                var discovered = new[] { $"services:{AppIds.Storefront}:http:0", $"services:{AppIds.Storefront}:https:0" }
                    .Select(key => configuration[key])
                    .FirstOrDefault(url => !string.IsNullOrWhiteSpace(url));
                options.StorefrontUrl = discovered ?? options.StorefrontUrl;
            })
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddSingleton(DaprSidecar.From(builder.Configuration));
        builder.Services.AddSingleton<GatewayRoutes>();
        builder.Services.AddSingleton<IProxyConfigProvider>(sp => sp.GetRequiredService<GatewayRoutes>());
        builder.Services.AddReverseProxy().AddTransforms<GatewayTransforms>();

        builder.Services.AddResponseCompression(compression =>
        {
            compression.Providers.Add<BrotliCompressionProvider>();
            compression.Providers.Add<GzipCompressionProvider>();
            compression.MimeTypes = ResponseCompressionDefaults.MimeTypes.Concat(["application/problem+json", "image/svg+xml"]);
        });
        builder.Services.Configure<BrotliCompressionProviderOptions>(o => o.Level = System.IO.Compression.CompressionLevel.Fastest);
        builder.Services.Configure<GzipCompressionProviderOptions>(o => o.Level = System.IO.Compression.CompressionLevel.Fastest);
        builder.Services.AddSingleton<CatalogReadsPolicy>();
        builder.Services.AddOutputCache();
        builder.Services.AddOptions<Microsoft.AspNetCore.OutputCaching.OutputCacheOptions>()
            .Configure<CatalogReadsPolicy>((cache, policy) => cache.AddPolicy(GatewayRoutes.CatalogReadsCache, policy));
        builder.Services.AddClientRateLimiting();
        builder.Services.AddSingleton<ApiAdmission>();
        return builder;
    }

    public static WebApplication MapGateway(this WebApplication app)
    {
        UseDefaultUrl(app);
        var options = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        if (options.TrustedProxies.Length > 0)
        {
            app.UseForwardedHeaders(TrustedForwardedHeaders(options.TrustedProxies));
        }
        app.UseResponseCompression();
        app.UseRateLimiter();
        app.UseOutputCache();
        // After the per-client limit (an abusive client is refused before it takes a place) and the output cache
        // (a cached read costs the shop nothing).
        var admission = app.Services.GetRequiredService<ApiAdmission>();
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/api"), api => api.Use(next => context => admission.InvokeAsync(context, next)));
        // The sidecar's own calls to its app (/dapr/config...) are the gateway's business, not the storefront's.
        app.Map("/dapr/{**rest}", () => Results.NotFound()).ExcludeFromDescription();
        // An API path no route owns is a 404 problem, not a storefront page.
        app.Map("/api/{**rest}", () => Results.Problem(statusCode: StatusCodes.Status404NotFound, detail: "No API answers this path.")).ExcludeFromDescription();
        app.MapReverseProxy(proxy => proxy.UseProxyErrors().UseCatalogCacheEviction());
        return app;
    }

    private static void UseDefaultUrl(WebApplication app)
    {
        var configuration = app.Configuration;
        if (string.IsNullOrEmpty(configuration["urls"]) && string.IsNullOrEmpty(configuration["http_ports"])
            && string.IsNullOrEmpty(configuration["https_ports"]) && !configuration.GetSection("Kestrel:Endpoints").GetChildren().Any())
        {
            app.Urls.Add(DefaultUrl);
        }
    }

    private static ForwardedHeadersOptions TrustedForwardedHeaders(IEnumerable<string> trustedProxies)
    {
        var forwarded = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto,
            // Walk X-Forwarded-For from the right through every trusted proxy, stopping at the first untrusted hop.
            ForwardLimit = null,
        };
        forwarded.KnownProxies.Clear();
        forwarded.KnownIPNetworks.Clear();
        foreach (var proxy in trustedProxies)
        {
            if (IPAddress.TryParse(proxy, out var address))
            {
                forwarded.KnownProxies.Add(address);
            }
            else
            {
                forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(proxy));
            }
        }
        return forwarded;
    }
}
