using System.Net.Mail;
using Dapr;
using Dapr.Client;
using DaprShop.Contracts;
using DaprShop.Notifications.Mail;
using DaprShop.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace DaprShop.Notifications.OrderEvents;

/// <summary>
/// The order events a shopper hears about. Each subscription has a dead-letter topic; each handler sends its mail
/// once per CloudEvent id, and never loses one (<see cref="ProcessedEvents.AtLeastOnceAsync"/>: the id is marked only
/// once the mail is handed to the outbox, so a failure or a crash before that is redelivered and mailed; a crash
/// between the two mails again — the same file under the localstorage outbox, a second mail over SMTP).
/// </summary>
public static class OrderEventsApi
{
    public static RouteGroupBuilder MapOrderEventsApi(this IEndpointRouteBuilder app)
    {
        var events = app.MapGroup("/events/orders").WithTags("Order events").ExcludeFromDescription();

        events.MapPost("/confirmed", (OrderConfirmed order, HttpRequest request, Notifier notifier, CancellationToken ct) =>
                notifier.SendAsync(request, order.OrderId, OrderMailKind.Confirmed, (from, now) => OrderMails.Confirmed(order, from, now), ct))
            .WithTopic(Subscription(Topics.OrderConfirmed));
        events.MapPost("/failed", (OrderFailed order, HttpRequest request, Notifier notifier, CancellationToken ct) =>
                notifier.SendAsync(request, order.OrderId, OrderMailKind.Failed, (from, now) => OrderMails.Failed(order, from, now), ct))
            .WithTopic(Subscription(Topics.OrderFailed));
        events.MapPost("/cancelled", (OrderCancelled order, HttpRequest request, Notifier notifier, CancellationToken ct) =>
                notifier.SendAsync(request, order.OrderId, OrderMailKind.Cancelled, (from, now) => OrderMails.Cancelled(order, from, now), ct))
            .WithTopic(Subscription(Topics.OrderCancelled));
        return events;
    }

    private static TopicOptions Subscription(string topic) =>
        new() { PubsubName = Components.PubSub, Name = topic, DeadLetterTopic = Topics.DeadLetter(topic) };
}

/// <summary>Hands order mails to the outbox binding, once per event.</summary>
public sealed class Notifier(DaprClient dapr, IOptions<NotificationsOptions> options, TimeProvider clock, ILogger<Notifier> logger)
{
    /// <summary>Tells Dapr to drop a message that can never be delivered (no retries, no dead letter).</summary>
    private static readonly object Drop = new { status = "DROP" };

    public async Task<Ok<object>> SendAsync(HttpRequest request, string orderId, OrderMailKind kind, Func<MailAddress, DateTimeOffset, EmailMessage> compose, CancellationToken cancellationToken)
    {
        var handler = $"mail-{kind.ToString().ToLowerInvariant()}";
        // Without a CloudEvent id (a raw publish), the order and the kind of news identify the event.
        var eventId = ProcessedEvents.EventId(request) ?? orderId;
        EmailMessage mail;
        try
        {
            mail = compose(options.Value.Sender, clock.GetUtcNow());
        }
        catch (FormatException e)
        {
            logger.LogError(e, "Order {OrderId}: no {Kind} mail, the shopper's address is not valid", orderId, kind);
            return TypedResults.Ok(Drop);
        }

        var payload = options.Value.Payload == OutboxPayload.Message ? mail.ToRfc5322() : mail.ToHtml();
        var sent = await ProcessedEvents.AtLeastOnceAsync(dapr, Components.StateStore, handler, eventId, () => dapr.InvokeBindingAsync(Components.Outbox, "create", payload, new Dictionary<string, string>
        {
            ["fileName"] = OrderMails.FileName(orderId, kind),
            ["emailFrom"] = mail.From.Address,
            ["emailTo"] = mail.To.Address,
            ["subject"] = mail.Subject,
        }, cancellationToken), cancellationToken);
        if (!sent)
        {
            logger.LogInformation("Order {OrderId}: event {EventId} was already mailed", orderId, eventId);
            return TypedResults.Ok<object>(new { status = "SUCCESS" });
        }
        logger.LogInformation("Order {OrderId}: {Kind} mail sent to the outbox", orderId, kind);
        return TypedResults.Ok<object>(new { status = "SUCCESS" });
    }
}
