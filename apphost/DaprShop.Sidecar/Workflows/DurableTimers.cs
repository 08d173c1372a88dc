namespace DaprShop.Sidecar.Workflows;

/// <summary>A durable timer (or a delayed start, <see cref="TimerId"/> -1) of one generation of an instance.</summary>
public sealed record DueTimer(string InstanceId, long Generation, int TimerId, DateTime FireAt);

/// <summary>
/// One scheduler for every timer: a priority queue and a single waiting task, woken when an earlier timer
/// arrives. A timer days away costs a queue entry and no CPU. Timers are not persisted here: the engine
/// rebuilds them from each instance's history (TimerCreated without TimerFired) when the sidecar starts.
/// </summary>
public sealed class DurableTimers(TimeProvider time) : IAsyncDisposable
{
    private static readonly TimeSpan MaxWait = TimeSpan.FromHours(1);
    private readonly PriorityQueue<DueTimer, DateTime> _queue = new();
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public void Start(Func<DueTimer, Task> fire) => _loop = Task.Run(() => RunAsync(fire));

    public void Schedule(DueTimer timer)
    {
        bool earliest;
        lock (_lock)
        {
            earliest = !_queue.TryPeek(out _, out var first) || timer.FireAt < first;
            _queue.Enqueue(timer, timer.FireAt);
        }
        if (earliest)
        {
            _wake.Release();
        }
    }

    private async Task RunAsync(Func<DueTimer, Task> fire)
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            var due = new List<DueTimer>();
            TimeSpan wait;
            lock (_lock)
            {
                var now = time.GetUtcNow().UtcDateTime;
                while (_queue.TryPeek(out var timer, out var at) && at <= now)
                {
                    due.Add(_queue.Dequeue());
                }
                wait = _queue.TryPeek(out _, out var next) ? next - now : MaxWait;
            }
            foreach (var timer in due)
            {
                _ = Task.Run(() => fire(timer), token);
            }
            if (wait > MaxWait)
            {
                wait = MaxWait;
            }
            try
            {
                if (due.Count == 0)
                {
                    await _wake.WaitAsync(wait < TimeSpan.Zero ? TimeSpan.Zero : wait, token);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }
        _stop.Dispose();
    }
}
