using Dapr.Client.Autogen.Grpc.v1;
using DaprShop.Sidecar.Hosting;

namespace DaprShop.Sidecar.Runtime.Jobs;

/// <summary>
/// Dapr's jobs API (stable <c>/v1.0/jobs</c> and gRPC <c>ScheduleJob</c>..., and their <c>Alpha1</c> forms), the
/// core both APIs share: checks a request as daprd does, then as daprd's Scheduler does, and keeps the job in the
/// mesh's <see cref="JobStore"/>; <see cref="JobTriggers"/> delivers it when due. Errors are daprd's: a missing job,
/// name or schedule is 400/InvalidArgument, anything the Scheduler refuses 500/Internal with its reason.
/// </summary>
public sealed class JobsApi(SidecarOptions options, JobStore store, TimeProvider time)
{
    private const string ScheduleJob = "DAPR_SCHEDULER_SCHEDULE_JOB";

    public string AppId => options.AppId;

    public string Namespace { get; } = options.NamespaceOrDefault;

    /// <summary>Raised when this sidecar schedules a job, so the trigger loop looks again at once.</summary>
    public event Action? Scheduled;

    public void Schedule(Job? job, bool overwrite)
    {
        if (job is null)
        {
            throw DaprErrors.JobEmpty("Job", "DAPR_SCHEDULER_EMPTY", options.AppId, Namespace);
        }
        if (string.IsNullOrWhiteSpace(job.Name))
        {
            throw DaprErrors.JobEmpty("Name", "DAPR_SCHEDULER_JOB_NAME_EMPTY", options.AppId, Namespace);
        }
        if (!job.HasSchedule && !job.HasDueTime)
        {
            throw DaprErrors.JobEmpty("Schedule", "DAPR_SCHEDULER_SCHEDULE_EMPTY", options.AppId, Namespace);
        }

        var created = time.GetUtcNow();
        DateTimeOffset? first;
        try
        {
            first = JobTiming.Parse(job, created).First(created);
        }
        catch (FormatException ex)
        {
            throw DaprErrors.JobCall(ScheduleJob, "schedule job", "Unknown", "job failed validation: " + ex.Message, options.AppId, Namespace);
        }
        if (first is null)
        {
            throw DaprErrors.JobCall(ScheduleJob, "schedule job", "Unknown", "job failed validation: the schedule never triggers", options.AppId, Namespace);
        }

        var stored = job.Clone();
        // The Scheduler fills in its default failure policy, and a GET shows it.
        stored.FailurePolicy ??= new JobFailurePolicy { Constant = new JobFailurePolicyConstant { Interval = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromSeconds(1)), MaxRetries = 3 } };
        if (!store.TryCreate(Namespace, options.AppId, stored, created, first.Value, overwrite))
        {
            throw DaprErrors.JobCall(ScheduleJob, "schedule job", "AlreadyExists", $"job already exists: '{Key(job.Name)}'", options.AppId, Namespace);
        }
        Scheduled?.Invoke();
    }

    public Job Get(string name)
    {
        RequireName(name);
        var stored = store.Get(Namespace, options.AppId, name)
            ?? throw DaprErrors.JobCall("DAPR_SCHEDULER_GET_JOB", "get job", "NotFound", $"job not found: {name}", options.AppId, Namespace);
        return stored.Job;
    }

    /// <summary>Deleting a job that does not exist succeeds, as in daprd.</summary>
    public void Delete(string name)
    {
        RequireName(name);
        store.Delete(Namespace, options.AppId, name);
    }

    /// <summary>Every job of this app whose name starts with <paramref name="prefix"/> (all of them for an empty prefix).</summary>
    public void DeleteByPrefix(string? prefix) => store.DeleteByPrefix(Namespace, options.AppId, prefix ?? "");

    public IReadOnlyList<Job> List() => [.. store.List(Namespace, options.AppId).Select(j => j.Job)];

    private void RequireName(string name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw DaprErrors.JobEmpty("Name", "DAPR_SCHEDULER_JOB_NAME_EMPTY", options.AppId, Namespace);
        }
    }

    /// <summary>The Scheduler's key for a job of this app, as its errors name it.</summary>
    private string Key(string name) => $"app||{Namespace}||{options.AppId}||{name}";
}
