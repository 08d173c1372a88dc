using System.Globalization;
using System.Text.RegularExpressions;
using DaprShop.Sidecar.Hosting;

namespace DaprShop.Sidecar.Runtime.Actors;

/// <summary>
/// A reminder or timer period as Dapr reads it: a Go duration (<c>10s</c>), an ISO 8601 duration (<c>PT10S</c>,
/// <c>P1M</c>) or ISO 8601 repetitions (<c>R5/PT10S</c>: five firings in all). Years, months and days are calendar
/// steps, as in dapr/kit's parser. <see cref="Repeats"/> is -1 for "until deleted".
/// </summary>
public sealed record ActorPeriod(string Value, int Years, int Months, int Days, TimeSpan Duration, int Repeats)
{
    public static readonly ActorPeriod None = new("", 0, 0, 0, TimeSpan.Zero, -1);

    public bool IsPeriodic => Years != 0 || Months != 0 || Days != 0 || Duration > TimeSpan.Zero;

    public DateTimeOffset Following(DateTimeOffset t) => AddDate(t, Years, Months, Days).Add(Duration);

    /// <summary>Go's <c>time.AddDate</c>: the day overflows into the next month (Jan 31 + 1 month = Mar 3), unlike .NET's clamping.</summary>
    public static DateTimeOffset AddDate(DateTimeOffset t, int years, int months, int days)
    {
        if (years == 0 && months == 0)
        {
            return t.AddDays(days);
        }
        var totalMonths = (t.Year + years) * 12 + (t.Month - 1) + months;
        var firstOfMonth = new DateTimeOffset(totalMonths / 12, totalMonths % 12 + 1, 1, t.Hour, t.Minute, t.Second, t.Offset).AddTicks(t.Ticks % TimeSpan.TicksPerSecond);
        return firstOfMonth.AddDays(t.Day - 1 + days);
    }

    public override string ToString() => Value;
}

public static partial class ActorTimes
{
    [GeneratedRegex(@"^P((?<y>\d+)Y)?((?<mo>\d+)M)?((?<w>\d+)W)?((?<d>\d+)D)?(T((?<h>\d+)H)?((?<mi>\d+)M)?((?<s>\d+(\.\d+)?)S)?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Iso();

    [GeneratedRegex(@"^R(?<n>\d*)/(?<rest>.+)$", RegexOptions.CultureInvariant)]
    private static partial Regex Repetitions();

    /// <summary>Parses a period; empty means none. Throws <see cref="FormatException"/> with daprd's wording.</summary>
    public static ActorPeriod ParsePeriod(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return ActorPeriod.None;
        }
        var (y, mo, d, span, repeats) = ParseDuration(value.Trim());
        if (repeats == 0)
        {
            throw new FormatException("has zero repetitions");
        }
        // The .NET SDK sends a negative span (Timeout.InfiniteTimeSpan) for "no period".
        return span < TimeSpan.Zero ? ActorPeriod.None : new ActorPeriod(value, y, mo, d, span, repeats);
    }

    /// <summary>An ISO 8601 duration with optional repetitions, or a Go duration.</summary>
    public static (int Years, int Months, int Days, TimeSpan Span, int Repeats) ParseDuration(string value)
    {
        var repeats = -1;
        var rest = value;
        var r = Repetitions().Match(value);
        if (r.Success)
        {
            repeats = r.Groups["n"].Value.Length == 0 ? -1 : int.Parse(r.Groups["n"].Value, CultureInfo.InvariantCulture);
            rest = r.Groups["rest"].Value;
        }
        var iso = Iso().Match(rest);
        if (iso.Success && rest.Length > 1)
        {
            int I(string g) => iso.Groups[g].Success ? int.Parse(iso.Groups[g].Value, CultureInfo.InvariantCulture) : 0;
            var seconds = iso.Groups["s"].Success ? double.Parse(iso.Groups["s"].Value, CultureInfo.InvariantCulture) : 0;
            var span = TimeSpan.FromHours(I("h")) + TimeSpan.FromMinutes(I("mi")) + TimeSpan.FromSeconds(seconds);
            return (I("y"), I("mo"), I("d") + 7 * I("w"), span, repeats);
        }
        if (Durations.TryParse(rest, out var go) && !rest.StartsWith('P'))
        {
            return (0, 0, 0, go, repeats);
        }
        throw new FormatException($"unsupported duration format \"{value}\"");
    }

    /// <summary>
    /// A point in time as daprd's <c>ParseTime</c> reads it: RFC 3339, or a duration (Go or ISO 8601, no repetitions)
    /// added to <paramref name="from"/>.
    /// </summary>
    public static DateTimeOffset ParseTime(string value, DateTimeOffset from)
    {
        value = value.Trim();
        if (value.Contains('T', StringComparison.Ordinal) && !value.StartsWith('P') && !value.StartsWith('R')
            && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            return at;
        }
        var (y, mo, d, span, repeats) = ParseDuration(value);
        if (repeats != -1)
        {
            throw new FormatException($"repetitions are not allowed here: \"{value}\"");
        }
        return ActorPeriod.AddDate(from, y, mo, d).Add(span);
    }

    /// <summary>Seconds precision, as daprd keeps reminder times (RFC 3339 without fractions).</summary>
    public static DateTimeOffset TruncateToSeconds(DateTimeOffset t) => new(t.Ticks - t.Ticks % TimeSpan.TicksPerSecond, t.Offset);

    public static string Rfc3339(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
