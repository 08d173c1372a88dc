using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml;

namespace DaprShop.Sidecar.Hosting;

/// <summary>Durations as Dapr writes them: Go's <c>time.ParseDuration</c> form ("1h30m", "500ms") or ISO 8601 ("PT5S").</summary>
public static partial class Durations
{
    [GeneratedRegex(@"(?<n>\d+(\.\d+)?)(?<u>ns|us|µs|ms|s|m|h)", RegexOptions.CultureInvariant)]
    private static partial Regex GoPart();

    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        text = text.Trim();
        if (text == "0")
        {
            return true;
        }
        if (text.StartsWith('P') || text.StartsWith("-P", StringComparison.Ordinal))
        {
            try
            {
                value = XmlConvert.ToTimeSpan(text);
                return true;
            }
            catch (FormatException)
            {
                return false;
            }
        }

        var negative = text.StartsWith('-');
        var rest = text.TrimStart('-', '+');
        var pos = 0;
        double ticks = 0;
        foreach (Match m in GoPart().Matches(rest))
        {
            if (m.Index != pos)
            {
                return false;
            }
            pos += m.Length;
            var n = double.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
            ticks += m.Groups["u"].Value switch
            {
                "ns" => n / 100,
                "us" or "µs" => n * 10,
                "ms" => n * TimeSpan.TicksPerMillisecond,
                "s" => n * TimeSpan.TicksPerSecond,
                "m" => n * TimeSpan.TicksPerMinute,
                _ => n * TimeSpan.TicksPerHour,
            };
        }
        if (pos == 0 || pos != rest.Length)
        {
            return false;
        }
        value = TimeSpan.FromTicks((long)(negative ? -ticks : ticks));
        return true;
    }

    public static TimeSpan Parse(string text) =>
        TryParse(text, out var value) ? value : throw new FormatException($"'{text}' is not a duration (e.g. 5s, 1m30s, 500ms or PT5S)");

    /// <summary>Go's <c>Duration.String()</c> form (<c>1h0m0s</c>, <c>1.5s</c>, <c>500ms</c>), which Dapr's SDKs read back.</summary>
    public static string ToGoString(TimeSpan span)
    {
        if (span == TimeSpan.Zero)
        {
            return "0s";
        }
        var sign = span < TimeSpan.Zero ? "-" : "";
        span = span.Duration();
        if (span < TimeSpan.FromSeconds(1))
        {
            // Under a second Go switches to the largest unit that keeps a whole part: ms, µs or ns.
            var ns = span.Ticks * 100;
            return sign + (ns < 1_000 ? $"{ns}ns" : ns < 1_000_000 ? Fraction(ns, 1_000) + "µs" : Fraction(ns, 1_000_000) + "ms");
        }
        var hours = (long)span.TotalHours;
        var text = sign;
        if (hours > 0)
        {
            text += $"{hours}h";
        }
        if (hours > 0 || span.Minutes > 0)
        {
            text += $"{span.Minutes}m";
        }
        var seconds = span.Seconds + (span.Ticks % TimeSpan.TicksPerSecond) / (double)TimeSpan.TicksPerSecond;
        return text + seconds.ToString("0.#########", CultureInfo.InvariantCulture) + "s";
    }

    private static string Fraction(long value, long unit) =>
        (value / (double)unit).ToString("0.#########", CultureInfo.InvariantCulture);
}
