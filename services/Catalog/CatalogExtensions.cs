using DaprShop.Catalog.Store;

namespace DaprShop.Catalog;

public static class CatalogExtensions
{
    public static TBuilder AddCatalog<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<CatalogOptions>()
            .BindConfiguration(CatalogOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOpenApi();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<CatalogSnapshot>();
        builder.Services.AddSingleton<NearCache>();
        builder.Services.AddSingleton<CatalogLoader>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CatalogLoader>());
        builder.Services.AddSingleton<ProductCommands>();
        builder.Services.AddHealthChecks().AddCheck<CatalogLoadedCheck>("catalog-loaded", tags: ["ready"]);
        return builder;
    }
}
