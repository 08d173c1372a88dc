using System.ComponentModel.DataAnnotations;

namespace DaprShop.MailSink;

/// <summary>Section <c>MailSink</c>: where the SMTP server listens and where it keeps what it receives.</summary>
public sealed class MailSinkOptions
{
    [Range(1, 65535)]
    public int SmtpPort { get; set; } = 2525;

    [Required]
    public string Directory { get; set; } = ".data/mail";
}
