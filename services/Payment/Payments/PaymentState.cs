using Dapr.Client;
using DaprShop.Contracts;

namespace DaprShop.Payment.Payments;

/// <summary>Where payments live in the state store, and the optimistic (ETag) update every transition goes through.</summary>
internal static class PaymentState
{
    private const int Attempts = 5;

    // Not "||": Dapr reserves it for the app-id prefix and refuses keys that contain it.
    public static string Key(string paymentId) => $"payment:{paymentId}";

    /// <summary>
    /// Reads the payment, applies <paramref name="transition"/> and writes it back only if nobody wrote in between;
    /// on a lost race, starts again from the newer state. Null when there is no such payment.
    /// </summary>
    public static async Task<(Payment? Payment, Transition Transition)> UpdateAsync(
        DaprClient dapr, string paymentId, Func<Payment, Transition> transition, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var (payment, etag) = await dapr.GetStateAndETagAsync<Payment?>(Components.StateStore, Key(paymentId), cancellationToken: cancellationToken);
            if (payment is null)
            {
                return (null, Transition.Refused("unknown payment"));
            }
            var outcome = transition(payment);
            if (outcome.Outcome != TransitionOutcome.Applied
                || await dapr.TrySaveStateAsync(Components.StateStore, Key(paymentId), payment, etag, cancellationToken: cancellationToken))
            {
                return (payment, outcome);
            }
            if (attempt == Attempts)
            {
                throw new InvalidOperationException($"payment {paymentId} kept changing under {Attempts} attempts to update it");
            }
        }
    }

    /// <summary>Stores a new payment unless one with its id exists (first write wins); false if it did.</summary>
    public static async Task<bool> TryCreateAsync(DaprClient dapr, Payment payment, CancellationToken cancellationToken)
    {
        try
        {
            await dapr.SaveStateAsync(Components.StateStore, Key(payment.PaymentId), payment,
                new StateOptions { Concurrency = ConcurrencyMode.FirstWrite }, cancellationToken: cancellationToken);
            return true;
        }
        catch (Dapr.DaprException)
        {
            if (await dapr.GetStateAsync<Payment?>(Components.StateStore, Key(payment.PaymentId), cancellationToken: cancellationToken) is not null)
            {
                return false;
            }
            throw;
        }
    }
}
