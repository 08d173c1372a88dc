using Dapr.Client;
using DaprShop.Basket.Baskets;
using DaprShop.Contracts;

namespace Microsoft.Extensions.Hosting;

public static class BasketExtensions
{
    public static IHostApplicationBuilder AddBasket(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<BasketOptions>()
            .BindConfiguration(BasketOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<KnownProducts>();
        // Dapr's InvocationHandler sends http://catalog/... to the sidecar with dapr-app-id: catalog; the retries
        // and timeout for that hop are the sidecar's (resiliency.yaml's catalog app target), so the client only
        // bounds the wait.
        builder.Services.AddHttpClient(BasketApi.CatalogClient, c =>
            {
                c.BaseAddress = new Uri($"http://{AppIds.Catalog}/");
                c.Timeout = TimeSpan.FromSeconds(10);
            })
            .AddHttpMessageHandler(() => new InvocationHandler());

        var options = builder.Configuration.GetSection(BasketOptions.Section).Get<BasketOptions>() ?? new BasketOptions();
        builder.Services.AddActors(o =>
        {
            o.Actors.RegisterActor<BasketActor>(BasketActor.TypeName);
            o.ActorIdleTimeout = options.ActorIdleTimeout;
            // Every basket has a reminder: partitions keep each reminder write from rewriting one list of all of them.
            o.RemindersStoragePartitions = 16;
        });
        return builder;
    }
}
