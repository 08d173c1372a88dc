using Dapr;
using Dapr.Client;
using DaprShop.Catalog.Store;
using DaprShop.Contracts;
using DaprShop.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DaprShop.Catalog.Events;

/// <summary>
/// The catalog listens to its own change events (one topic, routed by CloudEvent type) to invalidate caches (whichever replica made the change, the one
/// replica that receives the event evicts the shared cache entry and reloads), and to inventory's events to keep
/// each product's <c>Available</c> flag, which the <c>inStock</c> filter uses. Each subscription has a dead-letter
/// topic; each handler is idempotent by CloudEvent id.
/// </summary>
public static class CatalogSubscriptions
{
    public static RouteGroupBuilder MapCatalogSubscriptions(this IEndpointRouteBuilder routes)
    {
        var events = routes.MapGroup("/events").ExcludeFromDescription();
        // One topic (Dapr's outbox publishes one per store), routed by CloudEvent type.
        events.MapPost("/product-changed", (ProductChanged e, HttpRequest request, DaprClient dapr, ProductCommands commands, CatalogLoader loader, CancellationToken ct) =>
                InvalidateAsync("catalog-invalidate-changed", e.ProductId, request, dapr, commands, loader, ct))
            .WithTopic(CatalogEvent(CatalogEventTypes.ProductChanged, 1));
        events.MapPost("/price-changed", (ProductPriceChanged e, HttpRequest request, DaprClient dapr, ProductCommands commands, CatalogLoader loader, CancellationToken ct) =>
                InvalidateAsync("catalog-invalidate-price", e.ProductId, request, dapr, commands, loader, ct))
            .WithTopic(CatalogEvent(CatalogEventTypes.PriceChanged, 2));
        events.MapPost("/product-deleted", (ProductDeleted e, HttpRequest request, DaprClient dapr, ProductCommands commands, CatalogLoader loader, CancellationToken ct) =>
                InvalidateAsync("catalog-invalidate-deleted", e.ProductId, request, dapr, commands, loader, ct))
            .WithTopic(CatalogEvent(CatalogEventTypes.ProductDeleted, 3));
        events.MapPost("/version-changed", async (CatalogVersionChanged e, CatalogLoader loader, CancellationToken ct) =>
            {
                // Idempotent in itself: a reload happens only when the stored version differs from the snapshot's.
                await loader.RefreshIfStaleAsync(ct);
                return TypedResults.Ok();
            })
            .WithTopic(CatalogEvent(CatalogEventTypes.VersionChanged, 4));
        events.MapPost("/stock-restocked", async (StockRestocked e, HttpRequest request, ProductCommands commands, CancellationToken ct) =>
            {
                await commands.SetAvailabilityAsync(e.ProductId, e.Available > 0, e.At, "catalog-availability", ProcessedEvents.EventId(request), ct);
                return TypedResults.Ok();
            })
            .WithTopic(Subscription(Topics.StockRestocked));
        events.MapPost("/stock-low", async (StockLow e, HttpRequest request, ProductCommands commands, CancellationToken ct) =>
            {
                await commands.SetAvailabilityAsync(e.ProductId, e.Available > 0, e.At, "catalog-availability", ProcessedEvents.EventId(request), ct);
                return TypedResults.Ok();
            })
            .WithTopic(Subscription(Topics.StockLow));
        return events;
    }

    private static TopicOptions CatalogEvent(string type, int priority)
    {
        var options = Subscription(Topics.CatalogEvents);
        options.Match = CatalogEventTypes.Match(type);
        options.Priority = priority;
        return options;
    }

    private static TopicOptions Subscription(string topic) => new()
    {
        PubsubName = Components.PubSub,
        Name = topic,
        DeadLetterTopic = Topics.DeadLetter(topic),
    };

    /// <summary>
    /// Eviction and reload are idempotent in themselves; the marker only saves repeating them for a duplicate.
    /// It is written after the work, so a handler that fails half-way is redelivered and does it all again.
    /// </summary>
    private static async Task<Ok> InvalidateAsync(
        string handler, string productId, HttpRequest request, DaprClient dapr, ProductCommands commands, CatalogLoader loader, CancellationToken cancellationToken)
    {
        async Task EvictAsync()
        {
            await commands.EvictAsync(productId, cancellationToken);
            await loader.RefreshIfStaleAsync(cancellationToken);
        }
        if (ProcessedEvents.EventId(request) is { } eventId)
        {
            await ProcessedEvents.AtLeastOnceAsync(dapr, Components.StateStore, handler, eventId, EvictAsync, cancellationToken);
        }
        else
        {
            await EvictAsync();
        }
        return TypedResults.Ok();
    }
}
