using System.Net;
using Dapr.AppCallback.Autogen.Grpc.v1;
using Dapr.Client.Autogen.Grpc.v1;
using DaprShop.Sidecar.Hosting;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace DaprShop.Sidecar.Runtime.Jobs;

/// <summary>
/// Delivers this app's due jobs, as daprd does when the Scheduler streams a trigger to it: <c>POST /job/{name}</c>
/// to an HTTP app (the job's data as the body), <c>OnJobEventAlpha1</c> to a gRPC app. A 2xx (gRPC OK) or a 404
/// (NotFound) settles the trigger; anything else is retried under the job's failure policy (by default every second,
/// three times), and a trigger whose retries run out still counts against <c>repeats</c>. Each trigger is leased in
/// the <see cref="JobStore"/> first, so one replica of the app gets it and a sidecar that dies mid-delivery leaves
/// it to be delivered again.
/// </summary>
public sealed class JobTriggers(SidecarOptions options, JobsApi jobs, JobStore store, AppChannel app, TimeProvider time, ILogger<JobTriggers> logger)
    : BackgroundService
{
    /// <summary>How long a delivery may take before the trigger counts as failed.</summary>
    public static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(60);

    // Longer than a delivery may take, so a live sidecar's lease never runs out under it.
    private static readonly TimeSpan Lease = DeliveryTimeout + TimeSpan.FromSeconds(30);

    // Other replicas (and the jobs they schedule) are seen within this.
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    private readonly string _owner = $"{options.AppId}~{Environment.ProcessId}~{Guid.NewGuid():N}";
    private readonly SemaphoreSlim _wake = new(0);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!app.HasApp)
        {
            return; // no app to deliver to: the jobs wait for a sidecar that has one
        }
        jobs.Scheduled += Wake;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var wait = Poll;
                try
                {
                    wait = DeliverDue(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning(ex, "Could not read the due jobs; trying again");
                }
                await _wake.WaitAsync(wait, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            jobs.Scheduled -= Wake;
        }
    }

    private void Wake() => _wake.Release();

    /// <summary>Starts the delivery of every due trigger this sidecar can claim; answers how long to sleep.</summary>
    private TimeSpan DeliverDue(CancellationToken stopping)
    {
        if (!store.Exists || !app.IsReady)
        {
            return Poll;
        }
        var now = time.GetUtcNow();
        foreach (var job in store.Due(jobs.Namespace, options.AppId, now, limit: 64))
        {
            if (store.TryClaim(jobs.Namespace, options.AppId, job, _owner, now, now + Lease))
            {
                _ = Task.Run(() => TriggerAsync(job, stopping), CancellationToken.None);
            }
        }
        var next = store.NextAt(jobs.Namespace, options.AppId);
        var until = next is { } n ? n - time.GetUtcNow() : Poll;
        return until < TimeSpan.Zero ? TimeSpan.FromMilliseconds(50) : until < Poll ? until : Poll;
    }

    private async Task TriggerAsync(StoredJob job, CancellationToken stopping)
    {
        try
        {
            var delivered = await DeliverAsync(job.Job, stopping);
            var now = time.GetUtcNow();
            var policy = job.Job.FailurePolicy;
            if (!delivered && policy?.Constant is { } constant && (!constant.HasMaxRetries || job.Attempt < constant.MaxRetries))
            {
                store.Retry(jobs.Namespace, options.AppId, job, now + (constant.Interval?.ToTimeSpan() ?? TimeSpan.Zero));
            }
            else
            {
                if (!delivered)
                {
                    logger.LogWarning("Job {Name} failed to trigger and its failure policy gives up on this trigger", job.Name);
                }
                var next = JobTiming.Parse(job.Job, job.Created).Next(job.Due, job.Triggered + 1, now);
                store.Advance(jobs.Namespace, options.AppId, job, next);
            }
            Wake();
        }
        catch (Exception ex) when (!stopping.IsCancellationRequested)
        {
            // The lease runs out and the trigger is delivered again.
            logger.LogWarning(ex, "Could not settle the trigger of job {Name}", job.Name);
        }
        catch (Exception) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task<bool> DeliverAsync(Job job, CancellationToken stopping)
    {
        if (!app.IsHealthy)
        {
            return false;
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(DeliveryTimeout);
        var content = new ByteArrayContent(HttpBody(job.Data));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "job/" + Uri.EscapeDataString(job.Name)) { Content = content }.As(AppCallKind.JobEvent);
        request.Options.Set(AppCalls.JobEvent, new JobEventRequest
        {
            Name = job.Name,
            Data = job.Data ?? new Any(),
            Method = "job/" + job.Name,
            ContentType = job.Data?.TypeUrl ?? "",
            HttpExtension = new HTTPExtension { Verb = HTTPExtension.Types.Verb.Post },
        });
        try
        {
            using var response = await app.SendAsync(request, timeout.Token);
            var settled = response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.NotFound;
            if (!settled)
            {
                logger.LogWarning("The app answered job {Name} with {Status}", job.Name, (int)response.StatusCode);
            }
            return settled;
        }
        catch (Exception ex) when (ex is HttpRequestException || (ex is OperationCanceledException && !stopping.IsCancellationRequested))
        {
            logger.LogWarning("Job {Name} could not be delivered to the app: {Problem}", job.Name, ex.Message);
            return false;
        }
    }

    /// <summary>
    /// What an HTTP app receives, as daprd sends it: data scheduled over HTTP (a <c>google.protobuf.Value</c>) as its
    /// JSON, no data as an empty body, any other message as its serialized bytes.
    /// </summary>
    public static byte[] HttpBody(Any? data)
    {
        if (data is null || (data.TypeUrl.Length == 0 && data.Value.IsEmpty))
        {
            return [];
        }
        if (!data.Is(Value.Descriptor))
        {
            return data.Value.ToByteArray();
        }
        // Compact, as the JSON an app posted usually is (protobuf's formatter spaces out objects).
        var json = JsonFormatter.Default.Format(data.Unpack<Value>());
        return System.Text.Encoding.UTF8.GetBytes(System.Text.Json.Nodes.JsonNode.Parse(json)?.ToJsonString() ?? "null");
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }
}
