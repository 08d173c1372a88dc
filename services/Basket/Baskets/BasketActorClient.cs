using Dapr.Actors;
using Dapr.Actors.Client;
using DaprShop.Contracts;

namespace DaprShop.Basket.Baskets;

/// <summary>
/// Calls a basket actor without the SDK's remoting: each method is <c>POST /v1.0/actors/Basket/{shopperId}/method/{name}</c>
/// with one JSON argument, as any Dapr client in any language (or curl) would call it. The SDK's typed remoting proxy
/// builds a fresh JSON contract for every proxy, which made actor calls a measurable share of a checkout's CPU
/// (docs/benchmarks.md); this path reuses the factory's serializer options.
/// </summary>
internal sealed class BasketActorClient(ActorProxy proxy) : IBasketActor
{
    /// <summary>The basket of <paramref name="shopperId"/> (actor id = shopper id).</summary>
    public static IBasketActor For(IActorProxyFactory actors, string shopperId) =>
        new BasketActorClient(actors.Create(new ActorId(shopperId), BasketActor.TypeName));

    public Task<BasketDto> GetAsync() => proxy.InvokeMethodAsync<BasketDto>(nameof(GetAsync));

    public Task<BasketOutcome> AddAsync(BasketItemDto item) => proxy.InvokeMethodAsync<BasketItemDto, BasketOutcome>(nameof(AddAsync), item);

    public Task<BasketOutcome> SetQuantityAsync(BasketItemDto item) => proxy.InvokeMethodAsync<BasketItemDto, BasketOutcome>(nameof(SetQuantityAsync), item);

    public Task<BasketDto> RemoveAsync(string productId) => proxy.InvokeMethodAsync<string, BasketDto>(nameof(RemoveAsync), productId);

    public Task<BasketDto> ClearAsync() => proxy.InvokeMethodAsync<BasketDto>(nameof(ClearAsync));

    public Task<BasketDto> MergeAsync(BasketDto source) => proxy.InvokeMethodAsync<BasketDto, BasketDto>(nameof(MergeAsync), source);

    public Task<BasketDto> TakeOrderedAsync(OrderedItems order) => proxy.InvokeMethodAsync<OrderedItems, BasketDto>(nameof(TakeOrderedAsync), order);
}
