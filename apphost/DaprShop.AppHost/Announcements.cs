using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DaprShop.AppHost;

public static class Announcements
{
    /// <summary>Prints where shoppers go once the edge is ready (Aspire itself prints the dashboard's URL).</summary>
    public static IResourceBuilder<ProjectResource> AnnounceStorefront(this IResourceBuilder<ProjectResource> gateway, int port)
    {
        gateway.ApplicationBuilder.Eventing.Subscribe<ResourceReadyEvent>(gateway.Resource, (e, _) =>
        {
            e.Services.GetRequiredService<ILoggerFactory>().CreateLogger("DaprShop.AppHost")
                .LogInformation("Storefront: http://localhost:{Port} (through the gateway)", port);
            return Task.CompletedTask;
        });
        return gateway;
    }
}
