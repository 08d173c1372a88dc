using DaprShop.Contracts;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace DaprShop.Gateway.Proxy;

/// <summary>
/// The gateway's routes, in code so the table below is the whole story. API routes go to the gateway's own sidecar
/// with a <c>dapr-app-id</c> header (Dapr service invocation, original path and query kept); everything else goes
/// straight to the storefront, because Blazor Server needs WebSockets and Dapr invocation does not carry them.
/// </summary>
public sealed class GatewayRoutes(IOptions<GatewayOptions> options, DaprSidecar sidecar) : IProxyConfigProvider
{
    public const string DaprCluster = "dapr";
    public const string StorefrontCluster = "storefront";
    public const string CatalogRoute = "catalog";
    public const string StorefrontRoute = "storefront";

    /// <summary>Route metadata naming the app a route invokes.</summary>
    public const string AppIdMetadata = "DaprAppId";

    public const string PerClientRateLimit = "per-client";
    public const string CatalogReadsCache = "catalog-reads";

    /// <summary>The public API: path prefix → the app that serves it.</summary>
    public static readonly IReadOnlyList<(string RouteId, string Path, string AppId)> Api =
    [
        (CatalogRoute, "/api/v1/catalog/{**rest}", AppIds.Catalog),
        ("baskets", "/api/v1/baskets/{**rest}", AppIds.Basket),
        ("inventory", "/api/v1/inventory/{**rest}", AppIds.Inventory),
        ("orders", "/api/v1/orders/{**rest}", AppIds.Ordering),
        ("shoppers", "/api/v1/shoppers/{**rest}", AppIds.Ordering),
        // The payment provider's confirmation callback (services/Ordering/Payments/PaymentWebhookApi.cs).
        ("payment-webhook", "/api/v1/payments/webhook", AppIds.Ordering),
    ];

    /// <summary>Services whose OpenAPI document is published as <c>/openapi/{appId}/v1.json</c>.</summary>
    public static readonly IReadOnlyList<string> OpenApi = [AppIds.Catalog, AppIds.Basket, AppIds.Inventory, AppIds.Ordering];

    private IProxyConfig? _config;

    public IProxyConfig GetConfig() => _config ??= Build();

    private Config Build()
    {
        var gateway = options.Value;
        var routes = new List<RouteConfig>();
        foreach (var (routeId, path, appId) in Api)
        {
            routes.Add(new RouteConfig
            {
                RouteId = routeId,
                ClusterId = DaprCluster,
                Match = new RouteMatch { Path = path },
                RateLimiterPolicy = PerClientRateLimit,
                OutputCachePolicy = routeId == CatalogRoute && gateway.Caching.CatalogReadSeconds > 0 ? CatalogReadsCache : null,
                Metadata = new Dictionary<string, string> { [AppIdMetadata] = appId },
            });
        }
        foreach (var appId in OpenApi)
        {
            routes.Add(new RouteConfig
            {
                RouteId = $"openapi-{appId}",
                ClusterId = DaprCluster,
                Match = new RouteMatch { Path = $"/openapi/{appId}/v1.json", Methods = ["GET", "HEAD"] },
                RateLimiterPolicy = PerClientRateLimit,
                Metadata = new Dictionary<string, string> { [AppIdMetadata] = appId },
                Transforms = [new Dictionary<string, string> { ["PathSet"] = "/openapi/v1.json" }],
            });
        }
        routes.Add(new RouteConfig
        {
            RouteId = StorefrontRoute,
            ClusterId = StorefrontCluster,
            Match = new RouteMatch { Path = "/{**rest}" },
            RateLimiterPolicy = PerClientRateLimit,
        });

        var clusters = new List<ClusterConfig>
        {
            new()
            {
                ClusterId = DaprCluster,
                Destinations = new Dictionary<string, DestinationConfig> { ["sidecar"] = new() { Address = sidecar.HttpEndpoint.ToString() } },
                HttpRequest = new ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromSeconds(gateway.ApiTimeoutSeconds) },
            },
            new()
            {
                ClusterId = StorefrontCluster,
                Destinations = new Dictionary<string, DestinationConfig> { ["storefront"] = new() { Address = gateway.StorefrontUrl } },
                HttpRequest = new ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromSeconds(gateway.StorefrontTimeoutSeconds) },
            },
        };
        return new Config(routes, clusters);
    }

    private sealed class Config(IReadOnlyList<RouteConfig> routes, IReadOnlyList<ClusterConfig> clusters) : IProxyConfig
    {
        public IReadOnlyList<RouteConfig> Routes => routes;
        public IReadOnlyList<ClusterConfig> Clusters => clusters;
        // Built once from validated options: it never changes while the gateway runs.
        public IChangeToken ChangeToken { get; } = new CancellationChangeToken(CancellationToken.None);
    }
}
