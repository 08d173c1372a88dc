using Dapr.Actors;
using DaprShop.Contracts;

namespace DaprShop.Basket.Baskets;

/// <summary>What a confirmed order bought from this basket.</summary>
public sealed record OrderedItems(string OrderId, IReadOnlyList<BasketItemDto> Items);

/// <summary>The basket after a change, or why the change was refused (the basket is then unchanged).</summary>
public sealed record BasketOutcome(BasketDto Basket, BasketViolation Violation);

/// <summary>
/// One actor per shopper (actor id = shopper id). Dapr runs one call per actor at a time, so concurrent adds to one
/// basket are applied one after the other and all count, with no ETags or locks in this code.
/// </summary>
public interface IBasketActor : IActor
{
    Task<BasketDto> GetAsync();
    Task<BasketOutcome> AddAsync(BasketItemDto item);
    Task<BasketOutcome> SetQuantityAsync(BasketItemDto item);
    Task<BasketDto> RemoveAsync(string productId);
    Task<BasketDto> ClearAsync();

    /// <summary>Adds up the lines of <paramref name="source"/>; a merge of the same source version twice counts once.</summary>
    Task<BasketDto> MergeAsync(BasketDto source);

    /// <summary>Takes out what a confirmed order bought (<see cref="ShopperBasket.TakeOrdered"/>).</summary>
    Task<BasketDto> TakeOrderedAsync(OrderedItems order);
}
