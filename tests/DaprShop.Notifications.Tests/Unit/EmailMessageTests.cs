using System.Net.Mail;
using System.Text;
using DaprShop.Contracts;
using DaprShop.Notifications.Mail;
using FluentAssertions;

namespace DaprShop.Notifications.Tests.Unit;

public class EmailMessageTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 18, 5, 9, TimeSpan.FromHours(1));
    private static readonly MailAddress From = new("DaprShop <orders@daprshop.local>");

    private static OrderConfirmed Order(string email = "ada@example.com") => new(
        "order-42", "shopper-1", email,
        [new OrderLine("p1", "Crème brûlée torch", 2, new Money(1_999, "EUR")), new OrderLine("p2", "Kettle", 1, new Money(4_500, "EUR"))],
        new Money(8_498, "EUR"), Now);

    [Fact]
    public void A_confirmation_has_the_headers_of_an_rfc_5322_message_and_a_utf8_mime_body()
    {
        var text = OrderMails.Confirmed(Order(), From, Now).ToRfc5322();
        var mail = MailFile.Parse(text);

        mail.Headers["From"].Should().Be("DaprShop <orders@daprshop.local>");
        mail.Headers["To"].Should().Be("<ada@example.com>");
        mail.Headers["Subject"].Should().Be("Your DaprShop order order-42 is confirmed");
        mail.Headers["Date"].Should().Be("Tue, 24 Nov 2026 17:05:09 +0000");
        mail.Headers["Message-ID"].Should().Be("<order-42.confirmed@daprshop.local>");
        mail.Headers["MIME-Version"].Should().Be("1.0");
        mail.Headers["Content-Type"].Should().Be("text/plain; charset=utf-8");
        mail.Headers["Content-Transfer-Encoding"].Should().Be("quoted-printable");
        text.Should().NotContain("\n\n", "every line ends with CRLF").And.Match(t => t.All(c => c < 128), "the message is 7-bit clean");
    }

    [Fact]
    public void The_confirmation_body_lists_every_line_and_the_total_in_the_currency()
    {
        var body = MailFile.Parse(OrderMails.Confirmed(Order(), From, Now).ToRfc5322()).Body;

        body.Should().MatchRegex(@"2 x Crème brûlée torch\s+EUR 19\.99\s+EUR 39\.98");
        body.Should().MatchRegex(@"1 x Kettle\s+EUR 45\.00\s+EUR 45\.00");
        body.Should().Contain("Total: EUR 84.98");
    }

    [Theory]
    [InlineData(123_456, "EUR", "EUR 1,234.56")]
    [InlineData(1_500, "JPY", "JPY 1,500")]
    [InlineData(1_234, "KWD", "KWD 1.234")]
    [InlineData(5, "USD", "USD 0.05")]
    public void Money_is_written_with_the_minor_digits_of_its_currency(long amount, string currency, string text)
    {
        MoneyText.Format(new Money(amount, currency)).Should().Be(text);
    }

    [Fact]
    public void A_non_ascii_sender_name_and_subject_become_rfc_2047_encoded_words_of_at_most_75_characters()
    {
        var from = new MailAddress("orders@daprshop.local", "Boutique Zoë & Søn");
        var subject = "Ihre Bestellung ist bestätigt — 感谢您的订单，我们会尽快发货 🎉";
        var mail = new EmailMessage(from, new MailAddress("zoe@example.com"), subject, Now, "m@daprshop.local", "Grüße").ToRfc5322();

        var head = mail[..mail.IndexOf("\r\n\r\n", StringComparison.Ordinal)];
        head.Split("\r\n").Should().OnlyContain(line => line.Length <= 78);
        head.Should().Contain("From: =?utf-8?B?");
        System.Text.RegularExpressions.Regex.Matches(head, @"=\?utf-8\?B\?[^?]*\?=").Should().OnlyContain(m => m.Length <= 75);
        var parsed = MailFile.Parse(mail);
        parsed.Headers["From"].Should().Be("Boutique Zoë & Søn <orders@daprshop.local>");
        parsed.Headers["Subject"].Should().Be(subject);
        parsed.Body.Should().Be("Grüße");
    }

    [Fact]
    public void An_ascii_name_with_specials_is_quoted()
    {
        var mail = new EmailMessage(new MailAddress("orders@daprshop.local", "DaprShop, Inc."), new MailAddress("a@example.com"), "Hi", Now, "m@x", "").ToRfc5322();

        mail.Should().Contain("From: \"DaprShop, Inc.\" <orders@daprshop.local>\r\n");
    }

    [Fact]
    public void Line_breaks_in_a_reason_cannot_inject_headers()
    {
        var subject = "Order\r\nBcc: victim@example.com";
        var mail = new EmailMessage(From, new MailAddress("a@example.com"), subject, Now, "m@x", "").ToRfc5322();

        mail.Split("\r\n").Should().NotContain(l => l.StartsWith("Bcc:", StringComparison.Ordinal));
    }

    [Fact]
    public void Quoted_printable_keeps_lines_under_76_characters_and_round_trips()
    {
        var body = new string('é', 100) + " \r\n" + "a=b" + new string('x', 200) + "\t";

        var encoded = EmailMessage.QuotedPrintable(body);

        encoded.Split("\r\n").Should().OnlyContain(l => l.Length <= 76);
        encoded.Should().Contain("=3D").And.Contain("=20\r\n").And.EndWith("=09");
        MailFile.DecodeQuotedPrintable(encoded).Should().Be(body.ReplaceLineEndings("\r\n"));
        Encoding.ASCII.GetByteCount(encoded).Should().Be(encoded.Length);
    }

    [Fact]
    public void Failed_and_cancelled_mails_carry_the_reason_and_their_own_message_id()
    {
        var failed = MailFile.Parse(OrderMails.Failed(new OrderFailed("o-1", "s", "a@example.com", "card declined", Now), From, Now).ToRfc5322());
        var cancelled = MailFile.Parse(OrderMails.Cancelled(new OrderCancelled("o-1", "s", "a@example.com", "cancelled by the shopper", Now), From, Now).ToRfc5322());

        failed.Headers["Subject"].Should().Be("Your DaprShop order o-1 could not be completed");
        failed.Body.Should().Contain("Reason: card declined");
        failed.Headers["Message-ID"].Should().Be("<o-1.failed@daprshop.local>");
        cancelled.Headers["Subject"].Should().Be("Your DaprShop order o-1 is cancelled");
        cancelled.Body.Should().Contain("Reason: cancelled by the shopper");
        OrderMails.FileName("o-1", OrderMailKind.Cancelled).Should().Be("o-1-cancelled.eml");
    }

    [Fact]
    public void The_html_body_escapes_the_text_and_keeps_its_lines()
    {
        var mail = new EmailMessage(new MailAddress("orders@daprshop.test"), new MailAddress("ada@example.com"), "Order <1> & co",
            DateTimeOffset.UnixEpoch, "order-1.confirmed@daprshop.test", "2 x <b>Lamp</b>\nTotal: EUR 1 & more");

        var html = mail.ToHtml();

        html.Should().Contain("<title>Order &lt;1&gt; &amp; co</title>");
        html.Should().Contain("<pre style=\"white-space: pre-wrap\">2 x &lt;b&gt;Lamp&lt;/b&gt;\nTotal: EUR 1 &amp; more</pre>");
    }
}
