using System.Text.Json.Serialization;
using Dapr.Client;
using DaprShop.Contracts;
using DaprShop.Payment.Confirmations;
using DaprShop.Payment.Simulation;

namespace DaprShop.Payment;

public static class PaymentServiceExtensions
{
    public static TBuilder AddPaymentProvider<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<PaymentOptions>()
            .BindConfiguration(PaymentOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ProviderSimulationFilter>();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        // Service invocation of ordering's webhook through the sidecar (http://ordering/... → /v1.0/invoke/ordering/method/...).
        builder.Services.AddHttpClient(AppIds.Ordering, c => c.BaseAddress = new Uri($"http://{AppIds.Ordering}/"))
            .AddHttpMessageHandler(() => new InvocationHandler());
        builder.Services.AddActors(o => o.Actors.RegisterActor<PaymentConfirmationActor>());
        builder.Services.AddOpenApi();
        return builder;
    }
}
