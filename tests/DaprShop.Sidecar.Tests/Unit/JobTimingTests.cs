using Dapr.Client.Autogen.Grpc.v1;
using DaprShop.Sidecar.Runtime.Jobs;
using FluentAssertions;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace DaprShop.Sidecar.Tests.Unit;

public sealed class JobTimingTests
{
    private static readonly DateTimeOffset Created = new(2026, 3, 14, 10, 20, 30, TimeSpan.Zero);

    private static JobTiming Timing(string? schedule = null, string? dueTime = null, uint? repeats = null, string? ttl = null)
    {
        var job = new Job { Name = "j" };
        if (schedule is not null)
        {
            job.Schedule = schedule;
        }
        if (dueTime is not null)
        {
            job.DueTime = dueTime;
        }
        if (repeats is { } r)
        {
            job.Repeats = r;
        }
        if (ttl is not null)
        {
            job.Ttl = ttl;
        }
        return JobTiming.Parse(job, Created);
    }

    [Fact]
    public void A_due_time_given_as_a_duration_counts_from_creation_and_one_as_rfc3339_is_taken_as_it_is()
    {
        Timing(dueTime: "90s").First(Created).Should().Be(Created.AddSeconds(90));
        Timing(dueTime: "PT1M").First(Created).Should().Be(Created.AddMinutes(1));
        Timing(dueTime: "2026-03-15T00:00:00+01:00").First(Created).Should().Be(new DateTimeOffset(2026, 3, 14, 23, 0, 0, TimeSpan.Zero));
    }

    [Fact]
    public void Without_a_due_time_the_first_trigger_is_the_schedules_first_time_after_creation()
    {
        Timing(schedule: "@every 500ms").First(Created).Should().Be(Created.AddMilliseconds(500), "sub-second intervals are kept");
        Timing(schedule: "CRON_TZ=Etc/UTC 0 30 * * * *").First(Created).Should().Be(new DateTimeOffset(2026, 3, 14, 10, 30, 0, TimeSpan.Zero));
    }

    [Fact]
    public void After_a_trigger_the_schedule_goes_on_until_the_repeats_are_used_up()
    {
        var timing = Timing(schedule: "@every 10s", dueTime: "1m", repeats: 3);
        var first = timing.First(Created)!.Value;

        first.Should().Be(Created.AddMinutes(1), "the due time comes first, then the schedule");
        timing.Next(first, triggered: 1, now: first).Should().Be(first.AddSeconds(10));
        timing.Next(first.AddSeconds(10), triggered: 2, now: first.AddSeconds(10)).Should().Be(first.AddSeconds(20));
        timing.Next(first.AddSeconds(20), triggered: 3, now: first.AddSeconds(20)).Should().BeNull("three triggers were asked for");
    }

    [Fact]
    public void A_ttl_ends_the_schedule_counting_from_the_due_time()
    {
        var timing = Timing(schedule: "@every 10s", dueTime: "1m", ttl: "25s");
        var first = timing.First(Created)!.Value;

        timing.Expires.Should().Be(first.AddSeconds(25));
        timing.Next(first.AddSeconds(10), triggered: 2, now: first.AddSeconds(10)).Should().Be(first.AddSeconds(20));
        timing.Next(first.AddSeconds(20), triggered: 3, now: first.AddSeconds(20)).Should().BeNull("the next time would be past the ttl");
    }

    [Fact]
    public void A_one_shot_job_is_done_after_its_trigger_and_missed_ticks_collapse_into_one()
    {
        Timing(dueTime: "5s").Next(Created.AddSeconds(5), triggered: 1, now: Created.AddSeconds(5)).Should().BeNull();

        var every = Timing(schedule: "@every 1s");
        var late = Created.AddHours(1);
        every.Next(Created.AddSeconds(1), triggered: 1, now: late).Should().Be(late.AddSeconds(1), "an hour without a sidecar is not replayed second by second");
    }

    [Theory]
    [InlineData("@every 0s", null, null, null, "failed to parse schedule")]
    [InlineData("@every PT1S", null, null, null, "failed to parse schedule")]
    [InlineData("* * * *", null, null, null, "failed to parse schedule")]
    [InlineData(null, "R3/PT1S", null, null, "due time format not recognized")]
    [InlineData(null, "1h", 0u, null, "defined repeats must be greater than 0")]
    [InlineData(null, "1h", 2u, null, "job must have a schedule to repeat")]
    [InlineData(null, "1h", null, "2h", "job must have a schedule to have a ttl")]
    [InlineData("@hourly", null, null, "later", "ttl format not recognized")]
    [InlineData("@hourly", "2h", null, "2026-03-14T11:00:00Z", "ttl must be greater than due time")]
    public void The_schedulers_validation_refuses_with_its_reason(string? schedule, string? dueTime, uint? repeats, string? ttl, string reason)
    {
        var parse = () => Timing(schedule, dueTime, repeats, ttl);

        parse.Should().Throw<FormatException>().WithMessage(reason + "*");
    }

    [Fact]
    public void An_http_app_gets_json_data_as_json_no_data_as_nothing_and_other_messages_as_their_bytes()
    {
        var json = Any.Pack(Value.ForStruct(new Struct { Fields = { ["qty"] = Value.ForNumber(2) } }));
        var text = Any.Pack(new StringValue { Value = "hello" });

        System.Text.Encoding.UTF8.GetString(JobTriggers.HttpBody(json)).Should().Be("""{"qty":2}""");
        JobTriggers.HttpBody(null).Should().BeEmpty();
        JobTriggers.HttpBody(text).Should().Equal(new StringValue { Value = "hello" }.ToByteArray());
    }
}
