using Dapr.Actors;
using Dapr.Actors.Client;
using DaprShop.Contracts;
using DaprShop.Inventory.Reservations;
using DaprShop.Inventory.Stock;

namespace DaprShop.Inventory;

// Inventory's actors are called without the SDK's remoting: each method is
// POST /v1.0/actors/{type}/{id}/method/{name} with one JSON argument, as any Dapr client in any language (or curl)
// would call it. The SDK's typed remoting proxy builds a fresh JSON contract for every proxy, which made actor calls a
// measurable share of a checkout's CPU (docs/benchmarks.md); this path reuses the factory's serializer options.

internal sealed class StockActorClient(ActorProxy proxy) : IStockActor
{
    /// <summary>The stock actor of one product, as the inventory API and the reservation actors reach it.</summary>
    public static IStockActor For(IActorProxyFactory actors, string productId) => new StockActorClient(actors.Create(new ActorId(productId), StockActor.TypeName));

    public Task<StockDto?> GetAsync() => proxy.InvokeMethodAsync<StockDto?>(nameof(GetAsync));

    public Task<HoldOutcome> HoldAsync(StockHold hold) => proxy.InvokeMethodAsync<StockHold, HoldOutcome>(nameof(HoldAsync), hold);

    public Task ReleaseAsync(string reservationId) => proxy.InvokeMethodAsync(nameof(ReleaseAsync), reservationId);

    public Task ConfirmAsync(string reservationId) => proxy.InvokeMethodAsync(nameof(ConfirmAsync), reservationId);

    public Task ReturnAsync(StockHold sold) => proxy.InvokeMethodAsync(nameof(ReturnAsync), sold);

    public Task<StockDto> RestockAsync(int quantity) => proxy.InvokeMethodAsync<int, StockDto>(nameof(RestockAsync), quantity);
}

internal sealed class ReservationActorClient(ActorProxy proxy) : IReservationActor
{
    public static IReservationActor For(IActorProxyFactory actors, string reservationId) =>
        new ReservationActorClient(actors.Create(new ActorId(reservationId), ReservationActor.TypeName));

    public Task<ReserveAnswer> ReserveAsync(ReserveLines request) => proxy.InvokeMethodAsync<ReserveLines, ReserveAnswer>(nameof(ReserveAsync), request);

    public Task<TransitionAnswer> ConfirmAsync() => proxy.InvokeMethodAsync<TransitionAnswer>(nameof(ConfirmAsync));

    public Task<TransitionAnswer> ReleaseAsync() => proxy.InvokeMethodAsync<TransitionAnswer>(nameof(ReleaseAsync));

    public Task<TransitionAnswer> ReturnAsync() => proxy.InvokeMethodAsync<TransitionAnswer>(nameof(ReturnAsync));

    public Task<ReservationState?> GetAsync() => proxy.InvokeMethodAsync<ReservationState?>(nameof(GetAsync));
}
