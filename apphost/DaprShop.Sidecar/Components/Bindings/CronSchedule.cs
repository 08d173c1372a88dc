using Cronos;
using DaprShop.Sidecar.Hosting;

namespace DaprShop.Sidecar.Components.Bindings;

/// <summary>
/// A schedule in the syntax of Dapr's cron binding (robfig/cron with optional seconds): 5 or 6 fields,
/// <c>@every &lt;Go duration&gt;</c>, the descriptors <c>@yearly @annually @monthly @weekly @daily @midnight @hourly</c>,
/// and an optional <c>CRON_TZ=</c>/<c>TZ=</c> prefix. Without one, times are in the local zone, as in daprd.
/// </summary>
public sealed class CronSchedule
{
    private readonly TimeSpan? _every;
    private readonly CronExpression[] _expressions = [];
    private readonly TimeZoneInfo _zone;

    private CronSchedule(TimeSpan? every, CronExpression[] expressions, TimeZoneInfo zone)
    {
        _every = every;
        _expressions = expressions;
        _zone = zone;
    }

    /// <summary>Parses a schedule; throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static CronSchedule Parse(string text)
    {
        var spec = text.Trim();
        var zone = TimeZoneInfo.Local;
        if (spec.StartsWith("CRON_TZ=", StringComparison.Ordinal) || spec.StartsWith("TZ=", StringComparison.Ordinal))
        {
            var space = spec.IndexOf(' ', StringComparison.Ordinal);
            if (space < 0)
            {
                throw new FormatException("a time zone prefix must be followed by a schedule");
            }
            var id = spec[(spec.IndexOf('=', StringComparison.Ordinal) + 1)..space];
            try
            {
                zone = TimeZoneInfo.FindSystemTimeZoneById(id);
            }
            catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
            {
                throw new FormatException($"unknown time zone '{id}'");
            }
            spec = spec[(space + 1)..].Trim();
        }

        if (spec.StartsWith("@every ", StringComparison.Ordinal))
        {
            var duration = spec["@every ".Length..].Trim();
            // Go durations only (e.g. 15s, 1m30s); ISO 8601 is not robfig's syntax.
            if (duration.StartsWith('P') || !Durations.TryParse(duration, out var every))
            {
                throw new FormatException($"'{duration}' is not a duration such as 15s, 5m or 1h30m");
            }
            // robfig/cron: sub-second parts are dropped and anything under a second becomes one second.
            every = TimeSpan.FromSeconds(Math.Max(1, Math.Floor(every.TotalSeconds)));
            return new CronSchedule(every, [], zone);
        }

        var fields = spec switch
        {
            "@yearly" or "@annually" => "0 0 0 1 1 *",
            "@monthly" => "0 0 0 1 * *",
            "@weekly" => "0 0 0 * * 0",
            "@daily" or "@midnight" => "0 0 0 * * *",
            "@hourly" => "0 0 * * * *",
            _ when spec.StartsWith('@') => throw new FormatException($"unrecognized descriptor '{spec}'"),
            _ => spec,
        };
        var parts = fields.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 5)
        {
            parts = ["0", .. parts];
        }
        else if (parts.Length != 6)
        {
            throw new FormatException($"expected 5 or 6 fields, found {parts.Length}");
        }
        try
        {
            // Vixie cron (and robfig) match day-of-month OR day-of-week when both are restricted; Cronos
            // uses AND, so such a schedule becomes two expressions and the earlier occurrence wins.
            if (!IsStar(parts[3]) && !IsStar(parts[5]))
            {
                var byDay = (string[])parts.Clone();
                byDay[5] = "*";
                var byWeekday = (string[])parts.Clone();
                byWeekday[3] = "*";
                return new CronSchedule(null, [Expression(byDay), Expression(byWeekday)], zone);
            }
            return new CronSchedule(null, [Expression(parts)], zone);
        }
        catch (CronFormatException ex)
        {
            throw new FormatException(ex.Message);
        }
    }

    private static bool IsStar(string field) => field.StartsWith('*') || field.StartsWith('?');

    private static CronExpression Expression(string[] parts) => CronExpression.Parse(string.Join(' ', parts), CronFormat.IncludeSeconds);

    /// <summary>The first firing strictly after <paramref name="after"/>, or null when there is none.</summary>
    public DateTimeOffset? Next(DateTimeOffset after)
    {
        if (_every is { } every)
        {
            // Like robfig's constant-delay schedule: whole seconds, counted from the current second.
            var second = new DateTimeOffset(after.UtcTicks - (after.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
            return second + every;
        }
        DateTimeOffset? next = null;
        foreach (var expression in _expressions)
        {
            var candidate = expression.GetNextOccurrence(after, _zone);
            if (candidate is not null && (next is null || candidate < next))
            {
                next = candidate;
            }
        }
        return next;
    }
}
