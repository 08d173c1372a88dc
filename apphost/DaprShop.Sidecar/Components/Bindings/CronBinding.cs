using System.Globalization;

namespace DaprShop.Sidecar.Components.Bindings;

/// <summary>
/// <c>bindings.cron</c>: an input binding that raises an event on a schedule (<see cref="CronSchedule"/>). Each event
/// has no data and the metadata <c>timeZone</c> and <c>readTimeUTC</c>, as daprd's. As robfig/cron does, a firing
/// does not wait for the previous one to be delivered, and a failed delivery is only logged.
/// </summary>
public sealed class CronBinding : IInputBinding
{
    private readonly ComponentContext _context;
    private readonly CronSchedule _schedule;
    private readonly TimeProvider _time;

    public CronBinding(ComponentContext context) : this(context, TimeProvider.System)
    {
    }

    internal CronBinding(ComponentContext context, TimeProvider time)
    {
        _context = context;
        _time = time;
        var schedule = context.Required("schedule");
        try
        {
            _schedule = CronSchedule.Parse(schedule);
        }
        catch (FormatException ex)
        {
            throw context.Error("schedule", $"is not a valid schedule '{schedule}': {ex.Message}");
        }
    }

    public IReadOnlyList<string> Capabilities { get; } = [];

    public async Task ReadAsync(Func<BindingEvent, CancellationToken, Task> handler, CancellationToken stopping)
    {
        var after = _time.GetUtcNow();
        while (!stopping.IsCancellationRequested)
        {
            if (_schedule.Next(after) is not { } next)
            {
                _context.Logger.LogInformation("Cron binding {Name}: the schedule has no further occurrence", _context.Name);
                return;
            }
            // Long waits in steps: Task.Delay tops out near 49 days, and the clock may be adjusted meanwhile.
            while (_time.GetUtcNow() < next)
            {
                var wait = next - _time.GetUtcNow();
                try
                {
                    await Task.Delay(wait > TimeSpan.FromHours(1) ? TimeSpan.FromHours(1) : wait < TimeSpan.Zero ? TimeSpan.Zero : wait, _time, stopping);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            after = next;
            _ = FireAsync(handler, stopping);
        }
    }

    private async Task FireAsync(Func<BindingEvent, CancellationToken, Task> handler, CancellationToken stopping)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            // daprd reports the scheduler's zone as Go names it: "Local" unless the process runs in UTC mode.
            ["timeZone"] = "Local",
            ["readTimeUTC"] = GoTimeString(_time.GetUtcNow()),
        };
        try
        {
            await handler(new BindingEvent([], metadata), stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _context.Logger.LogWarning("Cron binding {Name}: the event was not delivered: {Error}", _context.Name, ex.Message);
        }
    }

    /// <summary>Go's <c>time.Time.String()</c> of a UTC time, e.g. <c>2024-05-01 10:11:12.1234567 +0000 UTC</c>.</summary>
    internal static string GoTimeString(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        var fraction = (utc.Ticks % TimeSpan.TicksPerSecond).ToString("D7", CultureInfo.InvariantCulture).TrimEnd('0');
        return utc.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + (fraction.Length > 0 ? "." + fraction : "") + " +0000 UTC";
    }
}
