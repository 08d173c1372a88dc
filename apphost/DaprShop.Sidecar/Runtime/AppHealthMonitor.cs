using DaprShop.Sidecar.Hosting;

namespace DaprShop.Sidecar.Runtime;

/// <summary>
/// <c>--enable-app-health-check</c>: probes <c>GET {--app-health-check-path}</c> every interval. After
/// <c>--app-health-threshold</c> failures in a row the app counts as unhealthy and, as in daprd, pub/sub and
/// input-binding deliveries pause (they fail and are redelivered later) until a probe succeeds again.
/// </summary>
public sealed class AppHealthMonitor(SidecarOptions options, AppChannel app, ILogger<AppHealthMonitor> logger)
{
    private int _failures;

    public async Task RunAsync(CancellationToken stopping)
    {
        if (!options.EnableAppHealthCheck || !app.HasApp)
        {
            return;
        }
        using var timer = new PeriodicTimer(options.AppHealthProbeInterval);
        do
        {
            var healthy = await ProbeAsync(stopping);
            if (healthy)
            {
                if (!app.IsHealthy)
                {
                    logger.LogInformation("The app is healthy again");
                }
                _failures = 0;
                app.IsHealthy = true;
            }
            else if (++_failures >= options.AppHealthThreshold && app.IsHealthy)
            {
                logger.LogWarning("The app failed {Failures} health probes: deliveries pause until it recovers", _failures);
                app.IsHealthy = false;
            }
        }
        while (await timer.WaitForNextTickAsync(stopping));
    }

    private async Task<bool> ProbeAsync(CancellationToken stopping)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        cts.CancelAfter(options.AppHealthProbeTimeout);
        try
        {
            // A probe every few seconds is not a trace anyone wants to read (daprd does not trace its probes either).
            using var untraced = OpenTelemetry.SuppressInstrumentationScope.Begin();
            using var request = new HttpRequestMessage(HttpMethod.Get, options.AppHealthCheckPath).As(AppCallKind.Health);
            using var response = await app.SendAsync(request, cts.Token, HttpCompletionOption.ResponseHeadersRead);
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !stopping.IsCancellationRequested)
        {
            return false;
        }
    }
}
