using System.Text.Json;
using System.Text;
using Dapr.Actors;
using Dapr.Actors.Runtime;
using Dapr.Client;
using DaprShop.Contracts;
using DaprShop.Payment.Payments;
using DaprShop.Payment.Simulation;
using Microsoft.Extensions.Options;

namespace DaprShop.Payment.Confirmations;

public interface IPaymentConfirmationActor : IActor
{
    /// <summary>Arranges for the issuer's approval to arrive after <see cref="PaymentOptions.ConfirmationDelay"/>.</summary>
    Task ScheduleAsync();
}

/// <summary>
/// The card issuer's asynchronous answer for one payment (actor id = payment id). A reminder, not a timer or an
/// in-process delay, so a pending confirmation survives a restart of the service: reminders live in the actor state
/// store. The reminder repeats until ordering's webhook has accepted the confirmation, then removes itself.
/// </summary>
public sealed class PaymentConfirmationActor(
    ActorHost host,
    DaprClient dapr,
    IHttpClientFactory http,
    IOptions<PaymentOptions> options,
    TimeProvider clock,
    ILogger<PaymentConfirmationActor> logger) : Actor(host), IPaymentConfirmationActor, IRemindable
{
    private const string Reminder = "confirm";

    /// <summary>The webhook of the partner (ordering) that raises the confirmation into the checkout workflow.</summary>
    public const string WebhookMethod = "api/v1/payments/webhook";

    // The reminder is registered before the payment is stored (so no pending payment is ever left without one);
    // a reminder that finds no payment after this grace period belongs to an authorization that never completed.
    private static readonly TimeSpan GraceForMissingPayment = TimeSpan.FromMinutes(2);

    public Task ScheduleAsync() =>
        RegisterReminderAsync(Reminder, Encoding.UTF8.GetBytes(clock.GetUtcNow().ToString("O")), options.Value.ConfirmationDelay, options.Value.ConfirmationRetryInterval);

    public async Task ReceiveReminderAsync(string reminderName, byte[] state, TimeSpan dueTime, TimeSpan period)
    {
        var paymentId = Id.GetId();
        var (payment, _) = await PaymentState.UpdateAsync(dapr, paymentId, p => p.Confirm(approved: true, reason: null, clock.GetUtcNow()), CancellationToken.None);
        if (payment is null)
        {
            if (DateTimeOffset.TryParse(Encoding.UTF8.GetString(state), null, System.Globalization.DateTimeStyles.RoundtripKind, out var scheduledAt)
                && clock.GetUtcNow() - scheduledAt < GraceForMissingPayment)
            {
                return;
            }
            logger.LogWarning("Dropping the confirmation of payment {PaymentId}: the authorization was never stored", paymentId);
            await UnregisterReminderAsync(Reminder);
            return;
        }

        PaymentConfirmation? confirmation = payment.Status switch
        {
            PaymentStatus.Approved or PaymentStatus.Captured or PaymentStatus.Refunded => new(paymentId, Approved: true, Reason: null),
            PaymentStatus.Declined => new(paymentId, Approved: false, payment.Reason),
            // Voided while pending: the checkout gave up on it, there is nobody to tell.
            _ => null,
        };
        if (confirmation is not null)
        {
            // A failure throws: the reminder fires again after its period, until ordering accepts the confirmation.
            // Signed as partners expect: HMAC-SHA256 of the exact body with the shared key from the secret store.
            var body = JsonSerializer.SerializeToUtf8Bytes(confirmation, JsonSerializerOptions.Web);
            var secrets = await dapr.GetSecretAsync(Components.SecretStore, PaymentWebhook.SigningKeySecret);
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            content.Headers.Add(PaymentWebhook.SignatureHeader, PaymentWebhook.Sign(secrets[PaymentWebhook.SigningKeySecret], body));
            using var ordering = http.CreateClient(AppIds.Ordering);
            using var response = await ordering.PostAsync(WebhookMethod, content);
            response.EnsureSuccessStatusCode();
            logger.LogInformation("Delivered the confirmation of payment {PaymentId} to {AppId}", paymentId, AppIds.Ordering);
        }
        await UnregisterReminderAsync(Reminder);
    }
}
