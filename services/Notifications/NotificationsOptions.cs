using System.ComponentModel.DataAnnotations;
using System.Net.Mail;

namespace DaprShop.Notifications;

/// <summary>What goes into the outbox (section <c>Notifications</c>), checked when the service starts.</summary>
public sealed class NotificationsOptions
{
    public const string Section = "Notifications";

    /// <summary>The sender, e.g. <c>DaprShop &lt;orders@daprshop.local&gt;</c>.</summary>
    [Required]
    [CustomValidation(typeof(NotificationsOptions), nameof(ValidateAddress))]
    public string From { get; set; } = "DaprShop <orders@daprshop.local>";

    /// <summary>
    /// <see cref="OutboxPayload.Message"/>: the binding's data is the whole RFC 5322 message (bindings.localstorage
    /// writes it as an .eml file). <see cref="OutboxPayload.Body"/>: the data is the body only, as HTML, for
    /// bindings.smtp, which builds the message itself (an HTML part) from the emailFrom, emailTo and subject metadata
    /// that every request carries.
    /// </summary>
    public OutboxPayload Payload { get; set; } = OutboxPayload.Message;

    public MailAddress Sender => new(From);

    public static ValidationResult? ValidateAddress(string value) =>
        MailAddress.TryCreate(value, out _) ? ValidationResult.Success : new ValidationResult($"'{value}' is not an e-mail address", [nameof(From)]);
}

public enum OutboxPayload { Message, Body }
