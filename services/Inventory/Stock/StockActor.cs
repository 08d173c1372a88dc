using System.Text.Json;
using Dapr.Actors.Runtime;
using Dapr;
using Dapr.Client;
using DaprShop.Contracts;
using Microsoft.Extensions.Options;

namespace DaprShop.Inventory.Stock;

/// <summary>
/// The stock of one SKU. See <see cref="IStockActor"/> and docs/inventory.md for why an actor per SKU.
/// Its events are kept in an outbox in the actor's own state: written in the same state transaction as the stock
/// change they report, published after it, and dropped from the outbox only once the broker took them. A publish that
/// fails is retried by a reminder, under the same CloudEvent id, so no stock event is lost and none is doubled for
/// subscribers that de-duplicate by id.
/// </summary>
public sealed class StockActor(ActorHost host, DaprClient dapr, IOptions<InventoryOptions> options, TimeProvider clock) : Actor(host), IStockActor, IRemindable
{
    public const string TypeName = "Stock";
    internal const string StateKey = "stock";
    internal const string OutboxKey = "outbox";
    internal const string PublishReminder = "publish-outbox";

    /// <summary>An event waiting to be published: its CloudEvent id, topic and data.</summary>
    internal sealed record PendingEvent(string Id, string Topic, JsonElement Data);

    private string ProductId => Id.GetId();

    public async Task<StockDto?> GetAsync() => await LoadAsync() is { } stock ? ToDto(stock) : null;

    public async Task<HoldOutcome> HoldAsync(StockHold hold)
    {
        var stock = await LoadAsync() ?? new StockLevel(0);
        var before = stock.Available;
        var outcome = stock.Hold(hold.ReservationId, hold.Quantity);
        if (outcome == HoldOutcome.Held)
        {
            await SaveAsync(stock, LowStockEvent(before, stock));
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
                await SaveAsync(stock, LowStockEvent(before, stock));
            }
        }
    }

    public async Task ConfirmAsync(string reservationId)
    {
        // Confirming moves units from reserved to gone: available does not change, so no low-stock check here.
        if (await LoadAsync() is { } stock && stock.Confirm(reservationId))
        {
            await SaveAsync(stock, null);
        }
    }

    public async Task ReturnAsync(StockHold sold)
    {
        if (await LoadAsync() is { } stock)
        {
            var before = stock.Available;
            if (stock.Return(sold.ReservationId, sold.Quantity, clock.GetUtcNow(), options.Value.KeepFinishedReservations))
            {
                await SaveAsync(stock, LowStockEvent(before, stock));
            }
        }
    }

    public async Task<StockDto> RestockAsync(int quantity)
    {
        var stock = await LoadAsync() ?? new StockLevel(0);
        stock.Restock(quantity);
        var dto = ToDto(stock);
        await SaveAsync(stock, Pending(Topics.StockRestocked, new StockRestocked(ProductId, quantity, dto.Available, clock.GetUtcNow())));
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

    /// <summary>The stock change and the event reporting it, in one state transaction; then the outbox is published.</summary>
    private async Task SaveAsync(StockLevel stock, PendingEvent? reported)
    {
        await StateManager.SetStateAsync(StateKey, stock.ToState());
        if (reported is not null)
        {
            await StateManager.SetStateAsync(OutboxKey, (IReadOnlyList<PendingEvent>)[.. await OutboxAsync(), reported]);
        }
        await StateManager.SaveStateAsync();
        if (reported is not null)
        {
            await PublishOutboxAsync();
        }
    }

    private async Task<IReadOnlyList<PendingEvent>> OutboxAsync() =>
        await StateManager.TryGetStateAsync<IReadOnlyList<PendingEvent>>(OutboxKey) is { HasValue: true } held ? held.Value : [];

    private PendingEvent Pending<T>(string topic, T message) =>
        new(Guid.NewGuid().ToString("N"), topic, JsonSerializer.SerializeToElement(message, dapr.JsonSerializerOptions));

    /// <summary>
    /// On crossing the threshold, so a busy SKU does not publish on every sale; and whenever the SKU sells out or a
    /// released hold brings it back from sold out, since listeners (the catalog's in-stock flag) follow available &gt; 0
    /// and would otherwise keep offering a sold-out product, or hide one that is back.
    /// </summary>
    private PendingEvent? LowStockEvent(int availableBefore, StockLevel stock)
    {
        var threshold = options.Value.LowStockThreshold;
        var crossedThreshold = availableBefore >= threshold && stock.Available < threshold;
        var soldOutChanged = availableBefore > 0 != stock.Available > 0;
        return crossedThreshold || soldOutChanged
            ? Pending(Topics.StockLow, new StockLow(ProductId, stock.Available, threshold, clock.GetUtcNow()))
            : null;
    }

    /// <summary>
    /// Publishes the outbox in order and keeps what the broker refused, with a reminder to try again. The stock change
    /// is already saved: a broker outage must not fail a checkout or a restock that has happened, nor lose its event.
    /// True when the outbox is empty afterwards.
    /// </summary>
    private async Task<bool> PublishOutboxAsync()
    {
        var outbox = await OutboxAsync();
        var sent = 0;
        foreach (var e in outbox)
        {
            try
            {
                await dapr.PublishEventAsync(Components.PubSub, e.Topic, e.Data, new Dictionary<string, string> { ["cloudevent.id"] = e.Id });
                sent++;
            }
            catch (Exception ex) when (ex is DaprException or HttpRequestException)
            {
                Logger.LogWarning("Could not publish {Topic} for {ProductId} ({Error}); it stays in the outbox and is retried", e.Topic, ProductId, ex.Message);
                break;
            }
        }
        if (sent > 0)
        {
            if (sent == outbox.Count)
            {
                await StateManager.TryRemoveStateAsync(OutboxKey);
            }
            else
            {
                await StateManager.SetStateAsync(OutboxKey, (IReadOnlyList<PendingEvent>)[.. outbox.Skip(sent)]);
            }
            await StateManager.SaveStateAsync();
        }
        if (sent < outbox.Count)
        {
            await RegisterReminderAsync(PublishReminder, null, RetryAfter, RetryAfter);
            return false;
        }
        return true;
    }

    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);

    public async Task ReceiveReminderAsync(string reminderName, byte[] state, TimeSpan dueTime, TimeSpan period)
    {
        if (reminderName != PublishReminder)
        {
            return;
        }
        if (await PublishOutboxAsync())
        {
            await UnregisterReminderAsync(PublishReminder);
        }
    }

    private StockDto ToDto(StockLevel stock) => new(ProductId, stock.OnHand, stock.Reserved, stock.Available);
}
