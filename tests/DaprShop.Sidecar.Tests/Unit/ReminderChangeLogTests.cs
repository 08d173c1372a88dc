using DaprShop.Sidecar.Runtime.Actors;
using FluentAssertions;

namespace DaprShop.Sidecar.Tests.Unit;

/// <summary>
/// The rule that keeps a reminder reload (read the stored lists, then reconcile the schedule) from undoing a create or
/// delete the sidecar made while the reload was reading: the interleavings are played one by one here, which a test
/// through a running sidecar cannot pin down.
/// </summary>
public sealed class ReminderChangeLogTests
{
    private const string Key = "Payment||order-1||confirm";

    private readonly ManualClock _clock = new();
    private readonly ReminderChangeLog _log;
    private readonly HashSet<string> _schedule = [];

    public ReminderChangeLogTests() => _log = new ReminderChangeLog(_clock);

    private bool ReloadPutsBack(long mark) => _log.TryApply(Key, mark, () => _schedule.Add(Key));

    [Fact]
    public void A_reminder_deleted_while_a_reload_was_reading_stays_deleted()
    {
        _schedule.Add(Key);
        var mark = _log.Mark(); // the reload reads the list, which still holds the reminder
        _log.Begin(Key, () => _schedule.Remove(Key));
        _log.End(Key, () => _schedule.Remove(Key));

        ReloadPutsBack(mark).Should().BeFalse();
        _schedule.Should().BeEmpty("the deletion is newer than what the reload read");
    }

    [Fact]
    public void A_reminder_created_while_a_reload_was_reading_stays_scheduled()
    {
        var mark = _log.Mark(); // the reload reads a list without the reminder
        _log.Begin(Key);
        _log.End(Key, () => _schedule.Add(Key));

        _log.TryApply(Key, mark, () => _schedule.Remove(Key)).Should().BeFalse();
        _schedule.Should().Contain(Key);
    }

    [Fact]
    public void No_reload_touches_a_reminder_whose_change_is_still_in_flight()
    {
        _log.Begin(Key, () => _schedule.Remove(Key));
        var mark = _log.Mark(); // even a reload that began after the change began

        ReloadPutsBack(mark).Should().BeFalse();
        _log.End(Key, () => _schedule.Remove(Key));
        _schedule.Should().BeEmpty();
    }

    [Fact]
    public void Two_changes_of_one_key_in_flight_keep_reloads_off_until_both_end()
    {
        _log.Begin(Key);
        _log.Begin(Key);
        _log.End(Key, () => _schedule.Add(Key));
        var mark = _log.Mark();

        _log.TryApply(Key, mark, () => _schedule.Remove(Key)).Should().BeFalse("the second change has not ended");
        _log.End(Key, () => _schedule.Add(Key));
        _log.TryApply(Key, _log.Mark(), () => _schedule.Remove(Key)).Should().BeTrue();
    }

    [Fact]
    public void A_reload_that_began_after_the_change_ended_applies_what_it_read()
    {
        _log.Begin(Key, () => _schedule.Remove(Key));
        _log.End(Key, () => _schedule.Remove(Key));
        var mark = _log.Mark(); // this reload's read includes the deletion; another replica re-created it since

        ReloadPutsBack(mark).Should().BeTrue();
        _schedule.Should().Contain(Key);
    }

    [Fact]
    public void Keys_this_sidecar_did_not_change_follow_the_store()
    {
        _log.Begin(Key);
        _log.End(Key, () => _schedule.Add(Key));

        _log.TryApply("Payment||order-2||confirm", 0, () => _schedule.Add("Payment||order-2||confirm")).Should().BeTrue();
        _schedule.Should().Contain("Payment||order-2||confirm");
    }

    [Fact]
    public void Changes_are_forgotten_once_older_than_any_reload_in_flight()
    {
        _log.Begin(Key);
        _log.End(Key, () => _schedule.Add(Key));
        _clock.Advance(TimeSpan.FromSeconds(30));
        _log.Begin("Payment||order-2||confirm");
        _log.End("Payment||order-2||confirm", () => { });

        _log.Forget(TimeSpan.FromMinutes(1));
        _log.Remembered.Should().Be(2);
        _clock.Advance(TimeSpan.FromSeconds(45));
        _log.Forget(TimeSpan.FromMinutes(1));
        _log.Remembered.Should().Be(1, "only the first change is older than a minute");
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
