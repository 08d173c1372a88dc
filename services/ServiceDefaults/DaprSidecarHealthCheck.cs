using Dapr.Client;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DaprShop.ServiceDefaults;

/// <summary>A service is only ready when its Dapr sidecar is: everything it does goes through it.</summary>
public sealed class DaprSidecarHealthCheck(DaprClient dapr) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await dapr.CheckOutboundHealthAsync(cancellationToken)
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("the Dapr sidecar is not ready");
}
