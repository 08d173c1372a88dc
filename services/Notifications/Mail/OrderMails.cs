using System.Globalization;
using System.Net.Mail;
using System.Text;
using DaprShop.Contracts;

namespace DaprShop.Notifications.Mail;

/// <summary>What kind of order news a mail carries; also the suffix of its file name and Message-ID.</summary>
public enum OrderMailKind { Confirmed, Failed, Cancelled }

/// <summary>
/// The shopper's e-mails about an order. The Message-ID is derived from the order and the kind of news, so a
/// redelivered event produces the very same message (and mail systems that see it twice can tell).
/// </summary>
public static class OrderMails
{
    public static EmailMessage Confirmed(OrderConfirmed order, MailAddress from, DateTimeOffset now)
    {
        var body = new StringBuilder()
            .AppendLine("Hello,")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"thank you for your order {order.OrderId}. It is confirmed and your payment has been taken.")
            .AppendLine();
        var nameWidth = Math.Max(4, order.Lines.Count == 0 ? 0 : order.Lines.Max(l => l.Name.Length));
        foreach (var line in order.Lines)
        {
            body.AppendLine(CultureInfo.InvariantCulture,
                $"{line.Quantity,4} x {line.Name.PadRight(nameWidth)}  {MoneyText.Format(line.UnitPrice),14}  {MoneyText.Format(line.UnitPrice.Times(line.Quantity)),14}");
        }
        body.AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"Total: {MoneyText.Format(order.Total)}")
            .AppendLine()
            .AppendLine("We will let you know when it ships.")
            .AppendLine()
            .Append("DaprShop");
        return Message(order.OrderId, OrderMailKind.Confirmed, order.Email, from, $"Your DaprShop order {order.OrderId} is confirmed", body.ToString(), now);
    }

    public static EmailMessage Failed(OrderFailed order, MailAddress from, DateTimeOffset now) =>
        Message(order.OrderId, OrderMailKind.Failed, order.Email, from, $"Your DaprShop order {order.OrderId} could not be completed",
            $"""
            Hello,

            we are sorry: your order {order.OrderId} could not be completed.
            Reason: {order.Reason}

            You have not been charged. Your basket is kept, so you can try again.

            DaprShop
            """, now);

    public static EmailMessage Cancelled(OrderCancelled order, MailAddress from, DateTimeOffset now) =>
        Message(order.OrderId, OrderMailKind.Cancelled, order.Email, from, $"Your DaprShop order {order.OrderId} is cancelled",
            $"""
            Hello,

            your order {order.OrderId} is cancelled.
            Reason: {order.Reason}

            Any payment taken is refunded to your card.

            DaprShop
            """, now);

    /// <summary>The outbox file of a mail: one per order and kind, so a resend overwrites rather than duplicates.</summary>
    public static string FileName(string orderId, OrderMailKind kind) => $"{orderId}-{kind.ToString().ToLowerInvariant()}.eml";

    private static EmailMessage Message(string orderId, OrderMailKind kind, string to, MailAddress from, string subject, string body, DateTimeOffset now) =>
        new(from, new MailAddress(to), subject, now, $"{orderId}.{kind.ToString().ToLowerInvariant()}@{from.Host}", body);
}
