using System.Collections.Concurrent;
using Dapr.Actors;
using Dapr.Actors.Runtime;

namespace DaprShop.Sidecar.Tests.Actors;

public interface ICounterActor : IActor
{
    Task<int> IncrementSlowly();
    Task<int> Count();
    Task<string> WhoAmI();
    Task Save(string key, string value, int ttlSeconds);
    Task SaveAndRemove(string keep, string value, string remove);
    Task StartTimer(int periodMs);
    Task StopTimer();
    Task RegisterReminder(string name, int dueMs, int periodMs, int repetitions, string data);
    Task<string?> ReminderPeriod(string name);
    Task UnregisterReminder(string name);
    Task Fail();
    Task Sleep(int milliseconds);
}

/// <summary>What one app process observed, injected per test app so that two apps in one test process stay apart.</summary>
public sealed class ActorProbe(string name)
{
    public string Name { get; } = name;
    public int InFlight;
    public int MaxInFlight;
    public int Calls;
    public ConcurrentDictionary<string, int> TimerFires { get; } = new();
    public ConcurrentQueue<(string ActorId, string Reminder, string Data)> ReminderFires { get; } = new();
    public ConcurrentQueue<string> Deactivated { get; } = new();
    public int RemindersOf(string actorId, string name) => ReminderFires.Count(r => r.ActorId == actorId && r.Reminder == name);
}

public sealed class CounterActor(ActorHost host, ActorProbe probe) : Actor(host), ICounterActor, IRemindable
{
    public async Task<int> IncrementSlowly()
    {
        var inside = Interlocked.Increment(ref probe.InFlight);
        InterlockedMax(ref probe.MaxInFlight, inside);
        try
        {
            var current = await StateManager.TryGetStateAsync<int>("count");
            await Task.Delay(10);
            var next = (current.HasValue ? current.Value : 0) + 1;
            await StateManager.SetStateAsync("count", next);
            await StateManager.SaveStateAsync(); // written through the sidecar inside the turn
            return next;
        }
        finally
        {
            Interlocked.Decrement(ref probe.InFlight);
            Interlocked.Increment(ref probe.Calls);
        }
    }

    public async Task<int> Count()
    {
        var current = await StateManager.TryGetStateAsync<int>("count");
        return current.HasValue ? current.Value : 0;
    }

    public Task Sleep(int milliseconds) => Task.Delay(milliseconds);

    public Task Fail()
    {
        Interlocked.Increment(ref probe.Calls);
        throw new InvalidOperationException($"{Id} fails on purpose");
    }

    public Task<string> WhoAmI()
    {
        Interlocked.Increment(ref probe.Calls);
        return Task.FromResult(probe.Name);
    }

    public Task Save(string key, string value, int ttlSeconds) =>
        ttlSeconds > 0 ? StateManager.SetStateAsync(key, value, TimeSpan.FromSeconds(ttlSeconds)) : StateManager.SetStateAsync(key, value);

    public async Task SaveAndRemove(string keep, string value, string remove)
    {
        await StateManager.SetStateAsync(keep, value);
        await StateManager.TryRemoveStateAsync(remove);
    }

    public Task StartTimer(int periodMs) =>
        RegisterTimerAsync("tick", nameof(OnTick), null, TimeSpan.FromMilliseconds(periodMs), TimeSpan.FromMilliseconds(periodMs));

    public Task OnTick()
    {
        probe.TimerFires.AddOrUpdate(Id.GetId(), 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }

    public Task StopTimer() => UnregisterTimerAsync("tick");

    public Task RegisterReminder(string name, int dueMs, int periodMs, int repetitions, string data)
    {
        var state = System.Text.Encoding.UTF8.GetBytes(data);
        return repetitions > 0
            ? RegisterReminderAsync(name, state, TimeSpan.FromMilliseconds(dueMs), TimeSpan.FromMilliseconds(periodMs), repetitions)
            : RegisterReminderAsync(name, state, TimeSpan.FromMilliseconds(dueMs), TimeSpan.FromMilliseconds(periodMs));
    }

    public async Task<string?> ReminderPeriod(string name)
    {
        try
        {
            var reminder = await GetReminderAsync(name);
            return reminder?.Period.ToString();
        }
        catch (Dapr.DaprApiException ex) when (ex.ErrorCode == "ERR_ACTOR_REMINDER_NOT_FOUND")
        {
            return null; // daprd answers 404 for a reminder that does not exist, which the SDK throws
        }
    }

    public Task UnregisterReminder(string name) => UnregisterReminderAsync(name);

    public async Task ReceiveReminderAsync(string reminderName, byte[] state, TimeSpan dueTime, TimeSpan period)
    {
        var data = System.Text.Encoding.UTF8.GetString(state ?? []);
        probe.ReminderFires.Enqueue((Id.GetId(), reminderName, data));
        if (data == "stop-after-first")
        {
            await UnregisterReminderAsync(reminderName); // a callback may cancel its own reminder
        }
    }

    protected override Task OnDeactivateAsync()
    {
        probe.Deactivated.Enqueue(Id.GetId());
        return Task.CompletedTask;
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
