using DaprShop.Sidecar.Runtime.Actors;
using FluentAssertions;

namespace DaprShop.Sidecar.Tests.Unit;

public sealed class ActorTimesTests
{
    private static readonly DateTimeOffset Now = new(2025, 1, 31, 10, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("10s", 0, 0, 0, 10, -1)]
    [InlineData("0h0m5s0ms", 0, 0, 0, 5, -1)]
    [InlineData("PT10S", 0, 0, 0, 10, -1)]
    [InlineData("R5/PT10S", 0, 0, 0, 10, 5)]
    [InlineData("R3/1m", 0, 0, 0, 60, 3)]
    [InlineData("P1Y2M3DT4S", 1, 2, 3, 4, -1)]
    [InlineData("P1W", 0, 0, 7, 0, -1)]
    public void Periods_parse_in_go_iso_and_repetition_forms(string text, int years, int months, int days, int seconds, int repeats)
    {
        var p = ActorTimes.ParsePeriod(text);

        (p.Years, p.Months, p.Days, p.Duration, p.Repeats).Should().Be((years, months, days, TimeSpan.FromSeconds(seconds), repeats));
        p.Value.Should().Be(text, "the period is echoed to the app as it was given");
    }

    [Theory]
    [InlineData(0L, "0s")]
    [InlineData(1L, "100ns")]
    [InlineData(15_000L, "1.5ms")]
    [InlineData(2_000_000L, "200ms")]
    [InlineData(12_345L, "1.2345ms")]
    [InlineData(25L, "2.5µs")]
    [InlineData(10_000_000L, "1s")]
    [InlineData(15_000_000L, "1.5s")]
    [InlineData(900_000_000L, "1m30s")]
    [InlineData(864_000_000_000L, "24h0m0s")]
    [InlineData(-5_000_000L, "-500ms")]
    public void Durations_print_as_gos_duration_string(long ticks, string expected) =>
        DaprShop.Sidecar.Hosting.Durations.ToGoString(TimeSpan.FromTicks(ticks)).Should().Be(expected);

    [Fact]
    public void Zero_repetitions_are_refused_and_a_negative_span_means_no_period()
    {
        var zero = () => ActorTimes.ParsePeriod("R0/PT1S");
        zero.Should().Throw<FormatException>().WithMessage("*zero repetitions*");
        ActorTimes.ParsePeriod("-0h0m0s1ms").IsPeriodic.Should().BeFalse();
        ActorTimes.ParsePeriod("").IsPeriodic.Should().BeFalse();
    }

    [Fact]
    public void Times_are_rfc3339_or_a_duration_from_a_start()
    {
        ActorTimes.ParseTime("2030-05-01T12:00:00Z", Now).Should().Be(new DateTimeOffset(2030, 5, 1, 12, 0, 0, TimeSpan.Zero));
        ActorTimes.ParseTime("90s", Now).Should().Be(Now.AddSeconds(90));
        ActorTimes.ParseTime("PT1H", Now).Should().Be(Now.AddHours(1));
        var repeated = () => ActorTimes.ParseTime("R2/PT1S", Now);
        repeated.Should().Throw<FormatException>();
    }

    [Fact]
    public void Calendar_periods_step_by_calendar_months_and_overflow_as_go_does()
    {
        ActorTimes.ParsePeriod("P1M").Following(Now).Should().Be(new DateTimeOffset(2025, 3, 3, 10, 0, 0, TimeSpan.Zero), "Jan 31 + 1 month is Mar 3 in Go");
        ActorTimes.ParsePeriod("P1Y1D").Following(Now).Should().Be(new DateTimeOffset(2026, 2, 1, 10, 0, 0, TimeSpan.Zero));
    }

    [Fact]
    public async Task The_turn_lock_lets_a_reentrant_chain_in_and_queues_others()
    {
        var turn = new TurnLock();
        await turn.EnterAsync("chain-a", 32, default);
        await turn.EnterAsync("chain-a", 32, default); // A -> B -> A
        var other = turn.EnterAsync("chain-b", 32, default);
        other.IsCompleted.Should().BeFalse();
        turn.Exit();
        other.IsCompleted.Should().BeFalse("chain-a still holds one level");
        turn.Exit();
        await other.WaitAsync(TimeSpan.FromSeconds(1));
        turn.Exit();

        await turn.EnterAsync("deep", 2, default);
        await turn.EnterAsync("deep", 2, default);
        var tooDeep = () => turn.EnterAsync("deep", 2, default);
        await tooDeep.Should().ThrowAsync<ActorStackDepthException>();
    }
}
