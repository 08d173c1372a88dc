using DaprShop.Notifications.OrderEvents;

namespace DaprShop.Notifications;

public static class NotificationsServiceExtensions
{
    public static TBuilder AddNotifications<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<NotificationsOptions>()
            .BindConfiguration(NotificationsOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<Notifier>();
        builder.Services.AddOpenApi();
        return builder;
    }
}
