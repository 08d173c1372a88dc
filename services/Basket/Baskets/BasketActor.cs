using Dapr.Actors.Runtime;
using DaprShop.Contracts;
using Microsoft.Extensions.Options;

namespace DaprShop.Basket.Baskets;

/// <summary>
/// A shopper's basket. Every change is saved before the call returns, and (re)arms the "abandoned" reminder, so a
/// basket nobody touches for <see cref="BasketOptions.AbandonedAfter"/> clears itself — even across restarts, since
/// reminders live in the actor state store, not in this process.
/// </summary>
public sealed class BasketActor(ActorHost host, IOptions<BasketOptions> options, TimeProvider clock) : Actor(host), IBasketActor, IRemindable
{
    public const string TypeName = "Basket";
    internal const string StateKey = "basket";
    internal const string AbandonedReminder = "abandoned";

    public async Task<BasketDto> GetAsync()
    {
        var state = await LoadAsync();
        return new ShopperBasket(state.Lines).ToDto(Id.GetId(), state.UpdatedAt);
    }

    public Task<BasketOutcome> AddAsync(BasketItemDto item) => ChangeAsync(b => b.Add(item.ProductId, item.Quantity));

    public Task<BasketOutcome> SetQuantityAsync(BasketItemDto item) => ChangeAsync(b => b.SetQuantity(item.ProductId, item.Quantity));

    public async Task<BasketDto> RemoveAsync(string productId) =>
        (await ChangeAsync(b => b.Remove(productId) ? BasketViolation.None : BasketViolation.NotInBasket)).Basket;

    public async Task<BasketDto> ClearAsync()
    {
        await StateManager.TryRemoveStateAsync(StateKey);
        await StateManager.SaveStateAsync();
        await DisarmAsync();
        return new ShopperBasket().ToDto(Id.GetId(), clock.GetUtcNow());
    }

    public async Task<BasketDto> MergeAsync(BasketDto source)
    {
        var version = $"{source.ShopperId}@{source.UpdatedAt.UtcTicks}";
        var (state, isNew) = await LoadForChangeAsync();
        var basket = new ShopperBasket(state.Lines);
        if (state.MergedFrom == version || source.Items.Count == 0)
        {
            await DiscardIfNewAsync(isNew);
            return basket.ToDto(Id.GetId(), state.UpdatedAt);
        }
        basket.MergeFrom(source.Items.Select(i => new BasketLine(i.ProductId, i.Quantity)));
        return await SaveAsync(basket, state, version);
    }

    public async Task<BasketDto> TakeOrderedAsync(OrderedItems order) =>
        (await ChangeAsync(b =>
        {
            b.TakeOrdered(order.Items.Select(i => new BasketLine(i.ProductId, i.Quantity)));
            return BasketViolation.None;
        })).Basket;

    public async Task ReceiveReminderAsync(string reminderName, byte[] state, TimeSpan dueTime, TimeSpan period)
    {
        if (reminderName != AbandonedReminder)
        {
            return;
        }
        var after = options.Value.AbandonedAfter;
        var stored = await StateManager.TryGetStateAsync<BasketState>(StateKey);
        if (stored.HasValue && clock.GetUtcNow() - stored.Value.UpdatedAt is var idle && idle < after)
        {
            // Changed since the reminder was armed: wait out the rest of the period from the last change.
            await RegisterReminderAsync(AbandonedReminder, null, after - idle, after);
            return;
        }
        Logger.LogInformation("Basket {ShopperId} abandoned for {AbandonedAfter}: clearing it", Id.GetId(), after);
        await StateManager.TryRemoveStateAsync(StateKey);
        await StateManager.SaveStateAsync();
        await DisarmAsync();
    }

    private async Task<BasketOutcome> ChangeAsync(Func<ShopperBasket, BasketViolation> change)
    {
        var (state, isNew) = await LoadForChangeAsync();
        var basket = new ShopperBasket(state.Lines);
        var violation = change(basket);
        if (violation != BasketViolation.None)
        {
            await DiscardIfNewAsync(isNew);
            return new BasketOutcome(basket.ToDto(Id.GetId(), state.UpdatedAt), violation);
        }
        return new BasketOutcome(await SaveAsync(basket, state, state.MergedFrom), BasketViolation.None);
    }

    private async Task<BasketDto> SaveAsync(ShopperBasket basket, BasketState previous, string? mergedFrom)
    {
        var now = clock.GetUtcNow();
        if (basket.IsEmpty && mergedFrom is null)
        {
            await StateManager.TryRemoveStateAsync(StateKey);
            await StateManager.SaveStateAsync();
            if (previous.ReminderArmed)
            {
                await DisarmAsync();
            }
            return basket.ToDto(Id.GetId(), now);
        }
        if (!previous.ReminderArmed)
        {
            // Armed once per basket, before the state that counts on it is saved (a reminder without a basket only
            // clears nothing). Later changes move UpdatedAt alone: a reminder write per change would double the cost
            // of every add, and the reminder, firing early, re-arms itself for the rest of the period.
            var after = options.Value.AbandonedAfter;
            await RegisterReminderAsync(AbandonedReminder, null, after, after);
        }
        await StateManager.SetStateAsync(StateKey, new BasketState([.. basket.Lines], now, mergedFrom) { ReminderArmed = true });
        await StateManager.SaveStateAsync();
        return basket.ToDto(Id.GetId(), now);
    }

    /// <summary>
    /// The basket to change, and whether it is new. A new basket is put in the actor's state cache as it is read: the
    /// SDK's first write of a key it has not seen (SetStateAsync, TryRemoveStateAsync) otherwise asks the sidecar a
    /// second time whether the key exists — a round trip on every basket's first add.
    /// </summary>
    private async Task<(BasketState State, bool IsNew)> LoadForChangeAsync()
    {
        var empty = new BasketState([], clock.GetUtcNow());
        var state = await StateManager.GetOrAddStateAsync(StateKey, empty);
        return (state, ReferenceEquals(state, empty));
    }

    /// <summary>Nothing was changed: a new basket from <see cref="LoadForChangeAsync"/> must not be saved when the method ends.</summary>
    private async Task DiscardIfNewAsync(bool isNew)
    {
        if (isNew)
        {
            await StateManager.TryRemoveStateAsync(StateKey);
        }
    }

    private async Task<BasketState> LoadAsync()
    {
        var stored = await StateManager.TryGetStateAsync<BasketState>(StateKey);
        return stored.HasValue ? stored.Value : new BasketState([], clock.GetUtcNow());
    }

    private async Task DisarmAsync()
    {
        try
        {
            await UnregisterReminderAsync(AbandonedReminder);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // An empty basket with a reminder left over only costs a no-op firing later.
            Logger.LogDebug(ex, "Could not remove the abandoned-basket reminder of {ShopperId}", Id.GetId());
        }
    }
}
