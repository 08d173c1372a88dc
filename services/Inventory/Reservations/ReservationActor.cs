using System.Text.Json;
using Dapr.Actors.Runtime;
using DaprShop.Contracts;
using DaprShop.Inventory.Stock;
using Microsoft.Extensions.Options;

namespace DaprShop.Inventory.Reservations;

/// <summary>Coordinates the SKU actors for one reservation. See <see cref="IReservationActor"/> and <see cref="Reservation"/>.</summary>
public sealed class ReservationActor(ActorHost host, IOptions<InventoryOptions> options, TimeProvider clock) : Actor(host), IReservationActor, IRemindable
{
    public const string TypeName = "Reservation";
    internal const string StateKey = "reservation";
    internal const string ExpiryReminder = "expiry";

    // If releasing at expiry fails (store briefly down), the reminder fires again after this.
    private static readonly TimeSpan ExpiryRetry = TimeSpan.FromSeconds(30);

    private static readonly JsonSerializerOptions LinesJson = new(JsonSerializerDefaults.Web);

    private string ReservationId => Id.GetId();

    public async Task<ReserveAnswer> ReserveAsync(ReserveLines request)
    {
        var (lines, expiresInSeconds) = request;
        var expiresIn = TimeSpan.FromSeconds(expiresInSeconds);
        var opened = Reservation.Open(ReservationId, lines, clock.GetUtcNow() + expiresIn);
        // The expiry reminder is armed, while the state is read, before any stock is held, and it carries the lines:
        // should this call end (a crash, a failed hold) before the reservation is saved, expiry still releases what it
        // took. A repeat that finds its reservation re-arms the reminder, which then fires later than it would have,
        // and finds the reservation finished or releases it.
        var armed = RegisterReminderAsync(ExpiryReminder, JsonSerializer.SerializeToUtf8Bytes(opened.Lines, LinesJson), expiresIn, ExpiryRetry);
        // One read: a new reservation enters the actor's state cache as it is read, so saving it does not make the SDK
        // ask the sidecar again whether the key exists.
        var state = await StateManager.GetOrAddStateAsync(StateKey, opened);
        await armed;
        if (!ReferenceEquals(state, opened) && state.HasExpired(clock.GetUtcNow()))
        {
            state = await ExpireAsync(state);
        }

        switch (state.OnReserve(lines))
        {
            case Verdict.AlreadyDone:
                return new ReserveAnswer(state.ToResult(), null);
            case Verdict.Conflict:
                return new ReserveAnswer(null, state.Status is ReservationStatus.Pending or ReservationStatus.Held or ReservationStatus.Confirmed or ReservationStatus.Rejected
                    ? $"Reservation '{ReservationId}' already exists with other lines."
                    : $"Reservation '{ReservationId}' was {state.Status.ToString().ToLowerInvariant()}.");
        }

        // Holds on different SKUs are independent, so they are taken in parallel; each SKU actor serialises its own.
        var outcomes = await Task.WhenAll(state.Lines.Select(async l => (l.ProductId, Outcome: await Stock(l.ProductId).HoldAsync(new(ReservationId, l.Quantity)))));
        var shorts = outcomes.Where(o => o.Outcome == HoldOutcome.Short).Select(o => o.ProductId).ToList();
        if (shorts.Count == 0)
        {
            state = state with { Status = ReservationStatus.Held };
            await SaveAsync(state);
            return new ReserveAnswer(state.ToResult(), null);
        }

        // All or none: what was taken goes back. Release is idempotent per SKU, so releasing every line is safe.
        state = await FinishAsync(state with { Status = ReservationStatus.Rejected, ShortProductIds = shorts });
        return new ReserveAnswer(state.ToResult(), null);
    }

    public async Task<TransitionAnswer> ConfirmAsync()
    {
        var state = await LoadAsync();
        if (state is null)
        {
            return new TransitionAnswer(false, null);
        }
        if (state.HasExpired(clock.GetUtcNow()))
        {
            state = await ExpireAsync(state);
        }
        switch (state.OnConfirm())
        {
            case Verdict.AlreadyDone:
                await FollowUpAsync(state);
                return new TransitionAnswer(true, null);
            case Verdict.Conflict:
                return new TransitionAnswer(true, $"Reservation '{ReservationId}' is {state.Status.ToString().ToLowerInvariant()} and cannot be confirmed.");
        }
        await FinishAsync(state with { Status = ReservationStatus.Confirmed });
        return new TransitionAnswer(true, null);
    }

    public async Task<TransitionAnswer> ReleaseAsync() => await ReleaseAsync(await LoadAsync());

    private async Task<TransitionAnswer> ReleaseAsync(ReservationState? state)
    {
        if (state is null)
        {
            // A tombstone: a reserve under this id arriving after its compensation must not hold stock.
            await FinishAsync(Reservation.Open(ReservationId, [], clock.GetUtcNow()) with { Status = ReservationStatus.Released });
            return new TransitionAnswer(true, null);
        }
        switch (state.OnRelease())
        {
            case Verdict.AlreadyDone:
                await FollowUpAsync(state);
                return new TransitionAnswer(true, null);
            case Verdict.Conflict:
                return new TransitionAnswer(true, $"Reservation '{ReservationId}' is confirmed: its stock has been sold and cannot be released.");
        }
        await FinishAsync(state with { Status = ReservationStatus.Released });
        return new TransitionAnswer(true, null);
    }

    public async Task<TransitionAnswer> ReturnAsync()
    {
        var state = await LoadAsync();
        if (state?.Status is not (ReservationStatus.Confirmed or ReservationStatus.Returned))
        {
            // Nothing was sold: giving back is releasing (an open reservation's holds; a tombstone for an unknown id).
            return await ReleaseAsync(state);
        }
        // Each SKU takes a reservation's return once, so a return interrupted half-way is simply repeated.
        await (state.Status == ReservationStatus.Confirmed ? FinishAsync(state with { Status = ReservationStatus.Returned }) : FollowUpAsync(state));
        return new TransitionAnswer(true, null);
    }

    public Task<ReservationState?> GetAsync() => LoadAsync();

    public async Task ReceiveReminderAsync(string reminderName, byte[] state, TimeSpan dueTime, TimeSpan period)
    {
        if (reminderName != ExpiryReminder)
        {
            return;
        }
        var reservation = await LoadAsync();
        if (reservation is null && state is { Length: > 0 } && JsonSerializer.Deserialize<List<BasketItemDto>>(state, LinesJson) is { Count: > 0 } lines)
        {
            // A reserve that armed this reminder and never saved its reservation: the holds it may have taken go back.
            reservation = Reservation.Open(ReservationId, lines, clock.GetUtcNow());
        }
        if (reservation is null)
        {
            await UnregisterReminderAsync(ExpiryReminder);
        }
        else if (reservation.IsOpen())
        {
            Logger.LogInformation("Reservation {ReservationId} expired unconfirmed at {ExpiresAt}: releasing its stock", ReservationId, reservation.ExpiresAt);
            await ExpireAsync(reservation);
        }
        else
        {
            // Finished, but the reminder is still armed: the call that finished it may have been cut short before every
            // SKU followed. If following up fails now, the reminder fires again after ExpiryRetry.
            await FollowUpAsync(reservation);
        }
    }

    private Task<ReservationState> ExpireAsync(ReservationState state) => FinishAsync(state with { Status = ReservationStatus.Expired });

    /// <summary>
    /// Saves the reservation's decision, then has its SKUs follow it (<see cref="Reservation.FollowUp"/>), then disarms
    /// the expiry reminder: a call cut short anywhere after the save leaves the reminder armed (and the decision
    /// stored), so the reminder, or a repeat of the call, finishes the follow-up. Following up before saving would leave
    /// the opposite gap, which nothing can close: a confirmed SKU behind a reservation still held, which a release then
    /// finds no hold to give back for. A finished reservation is kept a while for idempotent answers, then the store
    /// drops it (TTL).
    /// </summary>
    private async Task<ReservationState> FinishAsync(ReservationState state)
    {
        await StateManager.SetStateAsync(StateKey, state, options.Value.KeepFinishedReservations);
        await StateManager.SaveStateAsync();
        await FollowUpAsync(state);
        return state;
    }

    private async Task FollowUpAsync(ReservationState state)
    {
        await Task.WhenAll(state.Lines.Select(l => state.FollowUp() switch
        {
            StockFollowUp.Confirm => Stock(l.ProductId).ConfirmAsync(ReservationId),
            StockFollowUp.Release => Stock(l.ProductId).ReleaseAsync(ReservationId),
            StockFollowUp.Return => Stock(l.ProductId).ReturnAsync(new(ReservationId, l.Quantity)),
            _ => Task.CompletedTask,
        }));
        try
        {
            await UnregisterReminderAsync(ExpiryReminder);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A leftover reminder finds the reservation finished, follows up again (a no-op) and removes itself.
            Logger.LogDebug(ex, "Could not remove the expiry reminder of {ReservationId}", ReservationId);
        }
    }

    private async Task SaveAsync(ReservationState state)
    {
        await StateManager.SetStateAsync(StateKey, state);
        await StateManager.SaveStateAsync();
    }

    private async Task<ReservationState?> LoadAsync()
    {
        var stored = await StateManager.TryGetStateAsync<ReservationState>(StateKey);
        return stored.HasValue ? stored.Value : null;
    }

    private IStockActor Stock(string productId) => StockActorClient.For(ProxyFactory, productId);
}
