using System.Diagnostics.Metrics;
using System.Threading.RateLimiting;
using DaprShop.Gateway.Proxy;
using Microsoft.Extensions.Options;

namespace DaprShop.Gateway.Edge;

/// <summary>
/// Load shedding at the edge: at most <see cref="AdmissionOptions.MaxConcurrentApiCalls"/> API calls in flight per
/// gateway replica, a short queue in front of them, and a fast 503 (problem details, <c>Retry-After: 1</c>) for the
/// rest. Past capacity, queues inside the shop only grow and every caller waits longer; refusing early keeps the
/// admitted calls fast and tells clients to come back. Output-cache hits never get here (they reach nobody), and the
/// storefront's pages and WebSockets are not API calls.
/// </summary>
internal sealed class ApiAdmission : IDisposable
{
    public const string MeterName = "DaprShop.Gateway";

    private readonly ConcurrencyLimiter _limiter;
    private readonly TimeSpan _maxQueueTime;
    private readonly Counter<long> _shed;

    public ApiAdmission(IOptions<GatewayOptions> options, IMeterFactory meters)
    {
        var admission = options.Value.Admission;
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = admission.MaxConcurrentApiCalls,
            QueueLimit = admission.QueueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        _maxQueueTime = TimeSpan.FromMilliseconds(admission.MaxQueueMilliseconds);
        _shed = meters.Create(MeterName).CreateCounter<long>("daprshop.gateway.api_calls.shed", "{call}", "API calls the gateway refused with 503 because the shop was at capacity");
    }

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        using var lease = await AcquireAsync(context.RequestAborted);
        if (lease is { IsAcquired: true })
        {
            await next(context);
            return;
        }
        if (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }
        _shed.Add(1);
        await Problems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "The shop is busy right now; try again in a moment.",
            headers => headers.RetryAfter = "1");
    }

    /// <summary>A lease, a refused lease (queue full), or null when the queue wait ran out or the client left.</summary>
    private async Task<RateLimitLease?> AcquireAsync(CancellationToken requestAborted)
    {
        var immediate = _limiter.AttemptAcquire();
        if (immediate.IsAcquired || _maxQueueTime == TimeSpan.Zero)
        {
            return immediate;
        }
        immediate.Dispose();
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
        wait.CancelAfter(_maxQueueTime);
        try
        {
            return await _limiter.AcquireAsync(1, wait.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public void Dispose() => _limiter.Dispose();
}
