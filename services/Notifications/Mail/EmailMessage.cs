using System.Globalization;
using System.Net.Mail;
using System.Text;

namespace DaprShop.Notifications.Mail;

/// <summary>
/// A plain-text e-mail, written as an RFC 5322 message with a MIME (RFC 2045) UTF-8 body. Non-ASCII display names
/// and subjects become RFC 2047 encoded words; the body is quoted-printable, so the message is 7-bit clean and
/// readable as a file.
/// </summary>
public sealed record EmailMessage(MailAddress From, MailAddress To, string Subject, DateTimeOffset Date, string MessageId, string Body)
{
    private const string Crlf = "\r\n";

    public string ToRfc5322()
    {
        var message = new StringBuilder();
        Header(message, "From", Address(From));
        Header(message, "To", Address(To));
        Header(message, "Subject", EncodeWords(Subject));
        Header(message, "Date", Date.ToUniversalTime().ToString("ddd, dd MMM yyyy HH:mm:ss '+0000'", CultureInfo.InvariantCulture));
        Header(message, "Message-ID", $"<{MessageId}>");
        Header(message, "MIME-Version", "1.0");
        Header(message, "Content-Type", "text/plain; charset=utf-8");
        Header(message, "Content-Transfer-Encoding", "quoted-printable");
        message.Append(Crlf);
        message.Append(QuotedPrintable(Body));
        return message.ToString();
    }

    /// <summary>
    /// The body as a small HTML document, for a binding that sends its data as an HTML part (bindings.smtp): the text,
    /// escaped, in a <c>pre</c> block, so its lines and the columns of an order's lines stay as written.
    /// </summary>
    public string ToHtml() =>
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" + Html(SingleLine(Subject)) + "</title></head>" +
        "<body><pre style=\"white-space: pre-wrap\">" + Html(Body) + "</pre></body></html>";

    // The document is UTF-8, so only the characters that are markup need escaping; the rest stays readable.
    private static string Html(string text) => text
        .Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&quot;", StringComparison.Ordinal);

    private static void Header(StringBuilder message, string name, string value) =>
        message.Append(name).Append(": ").Append(value).Append(Crlf);

    private static string Address(MailAddress address)
    {
        if (string.IsNullOrEmpty(address.DisplayName))
        {
            return $"<{address.Address}>";
        }
        var phrase = Phrase(address.DisplayName);
        // After encoded words the address goes on a continuation line, so no line grows past 78 characters.
        return phrase.StartsWith("=?", StringComparison.Ordinal) ? $"{phrase}{Crlf} <{address.Address}>" : $"{phrase} <{address.Address}>";
    }

    /// <summary>An RFC 5322 phrase: atoms as they are, a quoted string for ASCII with specials, encoded words otherwise.</summary>
    private static string Phrase(string text)
    {
        text = SingleLine(text);
        if (!Ascii.IsValid(text) || text.Any(char.IsControl))
        {
            return EncodeWords(text);
        }
        return text.All(c => char.IsAsciiLetterOrDigit(c) || c == ' ' || "!#$%&'*+-/=?^_`{|}~".Contains(c))
            ? text
            : "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
    }

    /// <summary>
    /// RFC 2047 "B" encoded words for non-ASCII text, each at most 75 characters, split between characters (never
    /// inside a UTF-8 sequence or a surrogate pair) and folded onto continuation lines.
    /// </summary>
    public static string EncodeWords(string text)
    {
        text = SingleLine(text);
        if (Ascii.IsValid(text) && !text.Any(char.IsControl))
        {
            return text;
        }
        const int MaxBytesPerWord = 39; // 52 base64 characters + "=?utf-8?B?" and "?=": 64, so even "Subject: " + a word stays under 78.
        var words = new List<string>();
        var chunk = new StringBuilder();
        var enumerator = StringInfo.GetTextElementEnumerator(text);
        while (enumerator.MoveNext())
        {
            var element = enumerator.GetTextElement();
            if (chunk.Length > 0 && Encoding.UTF8.GetByteCount(chunk.ToString() + element) > MaxBytesPerWord)
            {
                words.Add(Word(chunk.ToString()));
                chunk.Clear();
            }
            chunk.Append(element);
        }
        words.Add(Word(chunk.ToString()));
        return string.Join(Crlf + " ", words);

        static string Word(string part) => "=?utf-8?B?" + Convert.ToBase64String(Encoding.UTF8.GetBytes(part)) + "?=";
    }

    // Values come from events: a CR or LF in them must never start a header of its own.
    private static string SingleLine(string text) => text.ReplaceLineEndings(" ");

    /// <summary>Quoted-printable (RFC 2045 §6.7) of the UTF-8 text, with CRLF line ends and soft breaks before 76 characters.</summary>
    public static string QuotedPrintable(string text)
    {
        const int MaxLine = 76;
        var output = new StringBuilder();
        var lines = text.ReplaceLineEndings("\n").Split('\n');
        for (var l = 0; l < lines.Length; l++)
        {
            var bytes = Encoding.UTF8.GetBytes(lines[l]);
            var length = 0;
            for (var i = 0; i < bytes.Length; i++)
            {
                var b = bytes[i];
                var last = i == bytes.Length - 1;
                // Trailing white space would be stripped in transport, so it is encoded.
                var literal = (b is >= 33 and <= 126 && b != '=') || (b is (byte)' ' or (byte)'\t' && !last);
                var encoded = literal ? ((char)b).ToString() : $"={b:X2}";
                // Keep room for the "=" of a soft line break (unless this is the line's last piece).
                if (length + encoded.Length > (last ? MaxLine : MaxLine - 1))
                {
                    output.Append('=').Append(Crlf);
                    length = 0;
                }
                output.Append(encoded);
                length += encoded.Length;
            }
            if (l < lines.Length - 1)
            {
                output.Append(Crlf);
            }
        }
        return output.ToString();
    }
}
