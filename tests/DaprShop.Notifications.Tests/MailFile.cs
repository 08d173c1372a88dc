using System.Text;

namespace DaprShop.Notifications.Tests;

/// <summary>Reads an RFC 5322 message back: unfolded headers, RFC 2047 words decoded, a quoted-printable body decoded.</summary>
public sealed record MailFile(IReadOnlyDictionary<string, string> Headers, string Body)
{
    public static MailFile Parse(string message)
    {
        var split = message.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = message[..split].Replace("\r\n ", " ", StringComparison.Ordinal);
        var headers = head.Split("\r\n").Select(l => l.Split(": ", 2)).ToDictionary(p => p[0], p => DecodeWords(p[1]), StringComparer.OrdinalIgnoreCase);
        return new MailFile(headers, DecodeQuotedPrintable(message[(split + 4)..]));
    }

    public static string DecodeWords(string value) =>
        System.Text.RegularExpressions.Regex.Replace(
            System.Text.RegularExpressions.Regex.Replace(value, @"\?=\s+=\?", "?==?"),
            @"=\?utf-8\?B\?([^?]*)\?=",
            m => Encoding.UTF8.GetString(Convert.FromBase64String(m.Groups[1].Value)),
            System.Text.RegularExpressions.RegexOptions.IgnoreCase);

    public static string DecodeQuotedPrintable(string body)
    {
        var text = body.Replace("=\r\n", "", StringComparison.Ordinal);
        var bytes = new List<byte>();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '=')
            {
                bytes.Add(Convert.ToByte(text.Substring(i + 1, 2), 16));
                i += 2;
            }
            else
            {
                bytes.Add((byte)text[i]);
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
