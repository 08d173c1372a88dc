using Dapr;
using Dapr.Client;
using DaprShop.ServiceDefaults;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What every DaprShop service starts with, in the style of .NET Aspire's service defaults: OpenTelemetry
/// (exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, as Aspire sets it), health endpoints that
/// include the Dapr sidecar, RFC 7807 problem details, the Dapr client, and CloudEvents handling for subscriptions.
/// Retries, timeouts and circuit breakers between services are Dapr's (Resiliency resources), not the client's.
/// </summary>
public static class ServiceDefaultsExtensions
{
    private const string HealthPath = "/health";
    private const string AlivePath = "/alive";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.Services.AddProblemDetails();
        builder.Services.AddDaprClient();
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), ["live"])
            .AddCheck<DaprSidecarHealthCheck>("dapr-sidecar", tags: ["ready"]);
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });
        var otel = builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                // A service's own instruments, under its application name (as its traces' source).
                .AddMeter(builder.Environment.ApplicationName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation())
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                // The workflow SDK's spans: each workflow and activity run as a child of the trace that scheduled it,
                // so one checkout reads as one trace across the saga's steps.
                .AddSource("Dapr.Workflow")
                .AddAspNetCoreInstrumentation(o => o.Filter = c => !c.Request.Path.StartsWithSegments(HealthPath) && !c.Request.Path.StartsWithSegments(AlivePath))
                // Dapr's gRPC calls go over HttpClient too, so this shows every hop to the sidecar.
                .AddHttpClientInstrumentation(o => o.FilterHttpRequestMessage = r => r.RequestUri?.AbsolutePath.StartsWith("/v1.0/healthz", StringComparison.Ordinal) != true));
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.UseOtlpExporter();
        }
        return builder;
    }

    /// <summary>Health endpoints, problem details for unhandled errors, and CloudEvents for Dapr subscriptions.</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAppApiToken(HealthPath, AlivePath);
        // Subscribers read the CloudEvent's id from the "Cloudevent.id" header to process each event once.
        app.UseCloudEvents(new CloudEventsMiddlewareOptions { ForwardCloudEventPropertiesAsHeaders = true });
        app.MapSubscribeHandler();
        app.MapHealthChecks(HealthPath, new HealthCheckOptions { Predicate = _ => true });
        app.MapHealthChecks(AlivePath, new HealthCheckOptions { Predicate = r => r.Tags.Contains("live") });
        return app;
    }
}
