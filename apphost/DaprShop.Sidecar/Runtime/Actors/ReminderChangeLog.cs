namespace DaprShop.Sidecar.Runtime.Actors;

/// <summary>
/// The reminders this sidecar is creating or deleting, and those it changed lately, so that a reload — which reads the
/// stored lists and then reconciles the schedule with them — leaves alone every key changed since it began reading:
/// its read may predate the change (a reminder just deleted would fire again, one just created would be dropped until
/// the next reload). Changes in flight are counted; finished ones are stamped with a sequence number. Thread-safe.
/// </summary>
internal sealed class ReminderChangeLog(TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Sequence, DateTimeOffset At)> _changed = new(StringComparer.Ordinal);
    private long _sequence;

    /// <summary>Taken when a reload begins: a change finished after it is newer than what the reload reads.</summary>
    public long Mark()
    {
        lock (_gate)
        {
            return _sequence;
        }
    }

    /// <summary>A local change of <paramref name="key"/> begins; <paramref name="apply"/> (if any) runs under the log's lock.</summary>
    public void Begin(string key, Action? apply = null)
    {
        lock (_gate)
        {
            _pending[key] = _pending.GetValueOrDefault(key) + 1;
            apply?.Invoke();
        }
    }

    /// <summary>The change ends: <paramref name="apply"/> puts its outcome into the schedule, under the log's lock.</summary>
    public void End(string key, Action apply)
    {
        lock (_gate)
        {
            apply();
            if (--_pending[key] == 0)
            {
                _pending.Remove(key);
            }
            _changed[key] = (++_sequence, time.GetUtcNow());
        }
    }

    /// <summary>
    /// Runs a reload's decision for <paramref name="key"/> unless the key is changing now or changed after
    /// <paramref name="mark"/>; true when it ran.
    /// </summary>
    public bool TryApply(string key, long mark, Action apply)
    {
        lock (_gate)
        {
            if (_pending.ContainsKey(key) || (_changed.TryGetValue(key, out var changed) && changed.Sequence > mark))
            {
                return false;
            }
            apply();
            return true;
        }
    }

    /// <summary>Forgets changes older than <paramref name="age"/>: no reload in flight began before them.</summary>
    public void Forget(TimeSpan age)
    {
        lock (_gate)
        {
            var before = time.GetUtcNow() - age;
            foreach (var key in _changed.Where(c => c.Value.At < before).Select(c => c.Key).ToList())
            {
                _changed.Remove(key);
            }
        }
    }

    /// <summary>How many finished changes are remembered (for tests).</summary>
    public int Remembered
    {
        get
        {
            lock (_gate)
            {
                return _changed.Count;
            }
        }
    }
}
