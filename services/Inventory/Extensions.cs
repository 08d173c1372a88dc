using System.Text.Json.Serialization;
using DaprShop.Inventory;
using DaprShop.Inventory.Reservations;
using DaprShop.Inventory.Stock;

namespace Microsoft.Extensions.Hosting;

public static class InventoryExtensions
{
    public static IHostApplicationBuilder AddInventory(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<InventoryOptions>()
            .BindConfiguration(InventoryOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));

        var options = builder.Configuration.GetSection(InventoryOptions.Section).Get<InventoryOptions>() ?? new InventoryOptions();
        builder.Services.AddActors(o =>
        {
            o.Actors.RegisterActor<StockActor>(StockActor.TypeName);
            o.Actors.RegisterActor<ReservationActor>(ReservationActor.TypeName);
            o.ActorIdleTimeout = options.ActorIdleTimeout;
            // Every open reservation has an expiry reminder: partitions keep each write to a small list.
            o.RemindersStoragePartitions = 16;
        });
        return builder;
    }
}
