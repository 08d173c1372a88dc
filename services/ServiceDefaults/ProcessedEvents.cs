using Dapr;
using Dapr.Client;
using Microsoft.AspNetCore.Http;

namespace DaprShop.ServiceDefaults;

/// <summary>
/// At-least-once delivery means duplicates will come: subscribers remember the CloudEvent ids they have processed.
/// The marker is a first-write state operation, so putting it in the same state transaction as the handler's own
/// writes makes "apply the event" and "remember it" one atomic step: a duplicate's transaction fails on the marker.
/// </summary>
public static class ProcessedEvents
{
    public const string CloudEventIdHeader = "Cloudevent.id";
    private static readonly TimeSpan Remember = TimeSpan.FromDays(7);

    public static string? EventId(HttpRequest request) =>
        request.Headers.TryGetValue(CloudEventIdHeader, out var id) && !string.IsNullOrEmpty(id) ? id.ToString() : null;

    // Not "||": Dapr reserves it for the key prefix and refuses keys that contain it.
    public static string Key(string handler, string eventId) => $"processed-event:{handler}:{eventId}";

    /// <summary>The marker to add to the handler's state transaction.</summary>
    public static StateTransactionRequest Marker(string handler, string eventId) =>
        new(Key(handler, eventId), "true"u8.ToArray(), StateOperationType.Upsert,
            options: new StateOptions { Concurrency = ConcurrencyMode.FirstWrite },
            metadata: new Dictionary<string, string> { ["ttlInSeconds"] = ((int)Remember.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture) });

    /// <summary>For handlers whose effect is not a state write (e-mail): records the id; false if it was already there.</summary>
    public static async Task<bool> TryMarkAsync(DaprClient dapr, string store, string handler, string eventId, CancellationToken cancellationToken)
    {
        try
        {
            await dapr.ExecuteStateTransactionAsync(store, [Marker(handler, eventId)], cancellationToken: cancellationToken);
            return true;
        }
        catch (DaprException)
        {
            if (await AlreadyMarkedAsync(dapr, store, handler, eventId, cancellationToken))
            {
                return false;
            }
            throw;
        }
    }

    /// <summary>
    /// For a handler whose effect is not a state write (an e-mail, an actor call): runs <paramref name="effect"/> once
    /// per event id. The id is marked first and unmarked if the effect fails, so the redelivery tries again; a crash
    /// between the two loses the effect rather than doubling it. False when the id was already processed.
    /// </summary>
    public static async Task<bool> OnceAsync(DaprClient dapr, string store, string handler, string eventId, Func<Task> effect, CancellationToken cancellationToken)
    {
        if (!await TryMarkAsync(dapr, store, handler, eventId, cancellationToken))
        {
            return false;
        }
        try
        {
            await effect();
        }
        catch
        {
            await dapr.DeleteStateAsync(store, Key(handler, eventId), cancellationToken: CancellationToken.None);
            throw;
        }
        return true;
    }

    /// <summary>
    /// For an effect that may be repeated but must never be lost (a mail the outbox writes again under the same file
    /// name; a cache eviction): skips an id already processed, runs <paramref name="effect"/>, then marks the id. A
    /// crash or a failure before the mark leaves the id unmarked, so the redelivery runs the effect again. False when
    /// the id was already processed.
    /// </summary>
    public static async Task<bool> AtLeastOnceAsync(DaprClient dapr, string store, string handler, string eventId, Func<Task> effect, CancellationToken cancellationToken)
    {
        if (await AlreadyMarkedAsync(dapr, store, handler, eventId, cancellationToken))
        {
            return false;
        }
        await effect();
        // False here means a concurrent delivery of the same event did it too: both ran, which this handler allows.
        await TryMarkAsync(dapr, store, handler, eventId, cancellationToken);
        return true;
    }

    public static async Task<bool> AlreadyMarkedAsync(DaprClient dapr, string store, string handler, string eventId, CancellationToken cancellationToken) =>
        await dapr.GetStateAsync<bool>(store, Key(handler, eventId), cancellationToken: cancellationToken);
}
