using Dapr.Client.Autogen.Grpc.v1;
using DaprShop.Sidecar.Components.Bindings;
using DaprShop.Sidecar.Hosting;
using DaprShop.Sidecar.Runtime.Actors;

namespace DaprShop.Sidecar.Runtime.Jobs;

/// <summary>
/// When a job triggers, read from its <c>schedule</c>, <c>dueTime</c>, <c>repeats</c> and <c>ttl</c> as Dapr's
/// Scheduler reads them: a schedule is a cron expression (seconds first, <c>CRON_TZ=</c> allowed), a descriptor
/// (<c>@daily</c>...) or <c>@every &lt;Go duration&gt;</c> (sub-second allowed); <c>dueTime</c> is RFC 3339 or a
/// duration from the job's creation; <c>ttl</c> is RFC 3339 or a duration from the due time (else from creation);
/// <c>repeats</c> counts triggers in all.
/// </summary>
public sealed class JobTiming
{
    private readonly TimeSpan? _every;
    private readonly CronSchedule? _cron;

    private JobTiming(DateTimeOffset? dueTime, TimeSpan? every, CronSchedule? cron, uint? repeats, DateTimeOffset? expires)
    {
        DueTime = dueTime;
        _every = every;
        _cron = cron;
        Repeats = repeats;
        Expires = expires;
    }

    public DateTimeOffset? DueTime { get; }

    public uint? Repeats { get; }

    public DateTimeOffset? Expires { get; }

    private bool HasSchedule => _every is not null || _cron is not null;

    /// <summary>
    /// Reads a job's timing; throws <see cref="FormatException"/> with the Scheduler's reason (the text after
    /// "job failed validation: ") when the Scheduler would refuse the job.
    /// </summary>
    public static JobTiming Parse(Job job, DateTimeOffset created)
    {
        TimeSpan? every = null;
        CronSchedule? cron = null;
        if (job.HasSchedule)
        {
            (every, cron) = ParseSchedule(job.Schedule);
        }
        var hasSchedule = every is not null || cron is not null;

        DateTimeOffset? due = null;
        if (job.HasDueTime)
        {
            due = ParsePoint(job.DueTime, created, "due time format not recognized");
        }

        uint? repeats = job.HasRepeats ? job.Repeats : null;
        if (repeats == 0)
        {
            throw new FormatException("defined repeats must be greater than 0");
        }
        if (repeats > 1 && !hasSchedule)
        {
            throw new FormatException("job must have a schedule to repeat");
        }

        DateTimeOffset? expires = null;
        if (job.HasTtl)
        {
            if (!hasSchedule)
            {
                throw new FormatException("job must have a schedule to have a ttl");
            }
            expires = ParsePoint(job.Ttl, due ?? created, "ttl format not recognized");
            if (due is { } d && expires < d)
            {
                throw new FormatException("ttl must be greater than due time");
            }
        }
        return new JobTiming(due, every, cron, repeats, expires);
    }

    private static (TimeSpan? Every, CronSchedule? Cron) ParseSchedule(string text)
    {
        var spec = text.Trim();
        if (spec.StartsWith("@every ", StringComparison.Ordinal))
        {
            var duration = spec["@every ".Length..].Trim();
            if (duration.StartsWith('P') || !Durations.TryParse(duration, out var every) || every <= TimeSpan.Zero)
            {
                throw new FormatException($"failed to parse schedule \"{text}\": '{duration}' is not a positive duration such as 500ms, 15s or 1h30m");
            }
            return (every, null);
        }
        try
        {
            return (null, CronSchedule.Parse(spec));
        }
        catch (FormatException ex)
        {
            throw new FormatException($"failed to parse schedule \"{text}\": {ex.Message}", ex);
        }
    }

    private static DateTimeOffset ParsePoint(string text, DateTimeOffset from, string problem)
    {
        try
        {
            return ActorTimes.ParseTime(text, from);
        }
        catch (FormatException)
        {
            throw new FormatException(problem);
        }
    }

    /// <summary>The first trigger: the due time, else the schedule's first time after creation.</summary>
    public DateTimeOffset? First(DateTimeOffset created) => DueTime ?? Following(created);

    /// <summary>
    /// The trigger after the one due at <paramref name="due"/>, once <paramref name="triggered"/> triggers have
    /// been counted; null when the job is done (no schedule, repeats used up, or past its ttl). Ticks missed while
    /// no sidecar of the app ran collapse into one rather than firing in a burst.
    /// </summary>
    public DateTimeOffset? Next(DateTimeOffset due, long triggered, DateTimeOffset now)
    {
        if (!HasSchedule || (Repeats is { } repeats && triggered >= repeats))
        {
            return null;
        }
        var next = Following(due);
        if (next is { } n && n < now)
        {
            next = Following(now);
        }
        return next is { } t && Expires is { } e && t > e ? null : next;
    }

    private DateTimeOffset? Following(DateTimeOffset after) =>
        _every is { } every ? after + every : _cron?.Next(after);
}
