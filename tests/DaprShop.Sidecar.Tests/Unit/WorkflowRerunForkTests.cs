using Dapr.DurableTask.Protobuf;
using DaprShop.Sidecar.Workflows;
using FluentAssertions;
using Grpc.Core;

namespace DaprShop.Sidecar.Tests.Unit;

/// <summary>Where a rerun cuts a history: what the new instance keeps and what it runs again.</summary>
public sealed class WorkflowRerunForkTests
{
    private static HistoryEvent Started() => new() { EventId = -1, ExecutionStarted = new ExecutionStartedEvent { Name = "w" } };
    private static HistoryEvent Scheduled(int id, string input) => new() { EventId = id, TaskScheduled = new TaskScheduledEvent { Name = "a", Input = input } };
    private static HistoryEvent Completed(int id) => new() { EventId = -1, TaskCompleted = new TaskCompletedEvent { TaskScheduledId = id, Result = $"r{id}" } };
    private static HistoryEvent Failed(int id) => new() { EventId = -1, TaskFailed = new TaskFailedEvent { TaskScheduledId = id } };
    private static HistoryEvent Timer(int id) => new() { EventId = id, TimerCreated = new TimerCreatedEvent() };
    private static HistoryEvent Fired(int id) => new() { EventId = -1, TimerFired = new TimerFiredEvent { TimerId = id } };
    private static HistoryEvent Turn() => new() { EventId = -1, WorkflowStarted = new WorkflowStartedEvent() };

    [Fact]
    public void A_fan_out_peer_scheduled_before_the_event_and_answered_after_it_runs_again_and_later_ones_are_dropped()
    {
        // A fan-out of 0, 1 and 2 where 2 answered first, then 1, then 0; the rerun targets 1.
        List<HistoryEvent> history = [Turn(), Started(), Scheduled(0, "x"), Scheduled(1, "y"), Scheduled(2, "z"), Turn(), Completed(2), Turn(), Completed(1), Completed(0)];

        var (kept, again) = WorkflowEngine.Fork(history, 1, overwriteInput: false, input: null);

        kept.Select(e => e.EventTypeCase).Should().Equal(
            HistoryEvent.EventTypeOneofCase.WorkflowStarted, HistoryEvent.EventTypeOneofCase.ExecutionStarted);
        // 1 is the target, 0 was started before it and not answered by then; 2 comes after the cut, and the workflow's
        // replay schedules it anew.
        again.Select(e => e.EventId).Should().Equal(1, 0);
        again[0].TaskScheduled.Input.Should().Be("y", "no new input was given");
    }

    [Fact]
    public void The_target_activity_takes_the_new_input_and_what_came_after_it_is_dropped()
    {
        List<HistoryEvent> history = [Turn(), Started(), Scheduled(0, "x"), Turn(), Completed(0), Scheduled(1, "y"), Turn(), Completed(1), Scheduled(2, "z")];

        var (kept, again) = WorkflowEngine.Fork(history, 1, overwriteInput: true, input: "Y");

        kept.Select(e => e.EventTypeCase).Should().Equal(
            HistoryEvent.EventTypeOneofCase.WorkflowStarted, HistoryEvent.EventTypeOneofCase.ExecutionStarted, HistoryEvent.EventTypeOneofCase.WorkflowStarted,
            HistoryEvent.EventTypeOneofCase.TaskScheduled, HistoryEvent.EventTypeOneofCase.TaskCompleted);
        kept[3].EventId.Should().Be(0, "the answered activity is kept, next to its answer");
        again.Should().ContainSingle().Which.TaskScheduled.Input.Should().Be("Y");
        history[5].TaskScheduled.Input.Should().Be("y", "the source history is not changed");
    }

    [Fact]
    public void A_failed_attempt_and_its_retry_timer_before_the_event_are_kept_as_answered()
    {
        List<HistoryEvent> history = [Turn(), Started(), Scheduled(0, "x"), Turn(), Failed(0), Timer(1), Turn(), Fired(1), Scheduled(2, "x"), Turn(), Completed(2)];

        var (kept, again) = WorkflowEngine.Fork(history, 2, overwriteInput: false, input: null);

        kept.Where(e => e.EventId >= 0).Select(e => e.EventId).Should().Equal(0, 1);
        again.Select(e => e.EventId).Should().Equal(2);
    }

    [Fact]
    public void A_timer_can_be_rerun_but_not_given_an_input_and_other_events_cannot_be_rerun()
    {
        List<HistoryEvent> history = [Turn(), Started(), Timer(0), Turn(), Fired(0), new() { EventId = 1, ExecutionCompleted = new ExecutionCompletedEvent() }];

        WorkflowEngine.Fork(history, 0, overwriteInput: false, input: null).Again.Should().ContainSingle().Which.TimerCreated.Should().NotBeNull();
        FluentActions.Invoking(() => WorkflowEngine.Fork(history, 0, overwriteInput: true, input: "i"))
            .Should().Throw<WorkflowException>().Which.Status.Should().Be(StatusCode.InvalidArgument);
        FluentActions.Invoking(() => WorkflowEngine.Fork(history, 1, overwriteInput: false, input: null))
            .Should().Throw<WorkflowException>().Which.Status.Should().Be(StatusCode.NotFound);
        FluentActions.Invoking(() => WorkflowEngine.Fork(history, 7, overwriteInput: false, input: null))
            .Should().Throw<WorkflowException>().Which.Status.Should().Be(StatusCode.NotFound);
    }
}
