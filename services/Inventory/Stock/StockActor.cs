using Dapr.Actors.Runtime;
using Dapr;
using Dapr.Client;
using DaprShop.Contracts;
using Microsoft.Extensions.Options;

namespace DaprShop.Inventory.Stock;

/// <summary>The stock of one SKU. See <see cref="IStockActor"/> and docs/inventory.md for why an actor per SKU.</summary>
public sealed class StockActor(ActorHost host, DaprClient dapr, IOptions<InventoryOptions> options, TimeProvider clock) : Actor(host), IStockActor
{
    public const string TypeName = "Stock";
    internal const string StateKey = "stock";

    private string ProductId => Id.GetId();

    public async Task<StockDto?> GetAsync() => await LoadAsync() is { } stock ? ToDto(stock) : null;

    public async Task<HoldOutcome> HoldAsync(string reservationId, int quantity)
    {
        var stock = await LoadAsync() ?? new StockLevel(0);
        var before = stock.Available;
        var outcome = stock.Hold(reservationId, quantity);
        if (outcome == HoldOutcome.Held)
        {
            await SaveAsync(stock);
            await PublishIfLowAsync(before, stock);
        }
        return outcome;
    }

    public async Task ReleaseAsync(string reservationId)
    {
        if (await LoadAsync() is { } stock)
        {
            var before = stock.Available;
            if (stock.Release(reservationId))
            {
                await SaveAsync(stock);
                await PublishIfLowAsync(before, stock);
            }
        }
    }

    public async Task ConfirmAsync(string reservationId)
    {
        // Confirming moves units from reserved to gone: available does not change, so no low-stock check here.
        if (await LoadAsync() is { } stock && stock.Confirm(reservationId))
        {
            await SaveAsync(stock);
        }
    }

    public async Task<StockDto> RestockAsync(int quantity)
    {
        var stock = await LoadAsync() ?? new StockLevel(0);
        stock.Restock(quantity);
        await SaveAsync(stock);
        var dto = ToDto(stock);
        await PublishAsync(Topics.StockRestocked, new StockRestocked(ProductId, quantity, dto.Available, clock.GetUtcNow()));
        return dto;
    }

    private async Task<StockLevel?> LoadAsync()
    {
        var stored = await StateManager.TryGetStateAsync<StockState>(StateKey);
        if (stored.HasValue)
        {
            return StockLevel.From(stored.Value);
        }
        return options.Value.SeedCatalogProducts && StockSeed.OpeningStock(ProductId) is { } opening ? new StockLevel(opening) : null;
    }

    private async Task SaveAsync(StockLevel stock)
    {
        await StateManager.SetStateAsync(StateKey, stock.ToState());
        await StateManager.SaveStateAsync();
    }

    /// <summary>
    /// On crossing the threshold, so a busy SKU does not publish on every sale; and whenever the SKU sells out or a
    /// released hold brings it back from sold out, since listeners (the catalog's in-stock flag) follow available &gt; 0
    /// and would otherwise keep offering a sold-out product, or hide one that is back.
    /// </summary>
    private Task PublishIfLowAsync(int availableBefore, StockLevel stock)
    {
        var threshold = options.Value.LowStockThreshold;
        var crossedThreshold = availableBefore >= threshold && stock.Available < threshold;
        var soldOutChanged = availableBefore > 0 != stock.Available > 0;
        return crossedThreshold || soldOutChanged
            ? PublishAsync(Topics.StockLow, new StockLow(ProductId, stock.Available, threshold, clock.GetUtcNow()))
            : Task.CompletedTask;
    }

    /// <summary>
    /// The stock change is already saved: stock events are advisory (back-in-stock and reorder prompts), so a broker
    /// outage is logged rather than failing a checkout or a restock that has happened.
    /// </summary>
    private async Task PublishAsync<T>(string topic, T message)
    {
        try
        {
            await dapr.PublishEventAsync(Components.PubSub, topic, message);
        }
        catch (Exception ex) when (ex is DaprException or HttpRequestException)
        {
            Logger.LogError(ex, "Could not publish {Topic} for {ProductId}", topic, ProductId);
        }
    }

    private StockDto ToDto(StockLevel stock) => new(ProductId, stock.OnHand, stock.Reserved, stock.Available);
}
