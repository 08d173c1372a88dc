using Dapr;
using Dapr.Actors.Client;
using Dapr.Client;
using DaprShop.Contracts;
using DaprShop.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DaprShop.Basket.Baskets;

/// <summary>
/// The order events the basket acts on. A confirmed order takes what it bought out of the shopper's basket: the
/// basket hears it from the ordering service's <c>OrderConfirmed</c> event rather than being called by the checkout
/// saga, so the saga waits for one step less and a basket service that is down delays nothing but this.
/// </summary>
public static class BasketSubscriptions
{
    private const string Handler = "basket-take-ordered";

    public static RouteGroupBuilder MapBasketSubscriptions(this IEndpointRouteBuilder app)
    {
        var events = app.MapGroup("/events/orders").WithTags("Order events").ExcludeFromDescription();
        events.MapPost("/confirmed", TakeOrderedAsync)
            .WithTopic(new TopicOptions { PubsubName = Components.PubSub, Name = Topics.OrderConfirmed, DeadLetterTopic = Topics.DeadLetter(Topics.OrderConfirmed) });
        return events;
    }

    /// <summary>
    /// Once per CloudEvent id (delivery is at least once, <see cref="ProcessedEvents.OnceAsync"/>): a crash between
    /// marking the id and changing the basket leaves the bought items in it (the abandoned-basket reminder clears them
    /// in time) rather than taking them out twice.
    /// </summary>
    public static async Task<Ok<object>> TakeOrderedAsync(
        OrderConfirmed order, HttpRequest request, DaprClient dapr, IActorProxyFactory actors, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var eventId = ProcessedEvents.EventId(request) ?? $"{order.OrderId}:{nameof(OrderConfirmed)}";
        var items = new OrderedItems(order.OrderId, [.. order.Lines.Select(l => new BasketItemDto(l.ProductId, l.Quantity))]);
        if (!BasketApi.IdPattern().IsMatch(order.ShopperId)
            || !await ProcessedEvents.OnceAsync(dapr, Components.StateStore, Handler, eventId, () => BasketActorClient.For(actors, order.ShopperId).TakeOrderedAsync(items), cancellationToken))
        {
            return TypedResults.Ok<object>(new { status = "SUCCESS" });
        }
        loggers.CreateLogger(typeof(BasketSubscriptions)).LogInformation("Basket {ShopperId}: took out what order {OrderId} bought", order.ShopperId, order.OrderId);
        return TypedResults.Ok<object>(new { status = "SUCCESS" });
    }
}
