using System.Net;
using DaprShop.Sidecar.Grpc;
using DaprShop.Sidecar.Http;
using DaprShop.Sidecar.Mesh;
using DaprShop.Sidecar.Resiliency;
using DaprShop.Sidecar.Resources;
using DaprShop.Sidecar.Runtime;
using DaprShop.Sidecar.Tracing;
using DaprShop.Sidecar.Workflows;
using Grpc.Reflection;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace DaprShop.Sidecar.Hosting;

/// <summary>Composes the sidecar: resources, components, the core, and both API ports on one Kestrel server.</summary>
public static partial class SidecarApp
{
    public static async Task<WebApplication> BuildAsync(SidecarOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        var resources = ResourceLoader.Load(options.ResourcesPaths, options.ConfigPath, options.AppId);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ApplicationName = "daprshop-sidecar" });
        ConfigureLogging(builder, options);
        ConfigureKestrel(builder, options, MetricsPort(options, resources));
        ConfigureTracing(builder, options, resources);
        ConfigureMetrics(builder, options, resources);

        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(resources);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<SidecarState>();
        services.AddSingleton<SidecarMetrics>();
        services.AddSingleton<WorkflowMetrics>();
        services.AddSingleton<ActorMetrics>();
        services.AddSingleton<ResiliencyMetrics>();
        services.AddSingleton<ResiliencyEngine>(sp => new ResiliencyEngine(resources, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ResiliencyMetrics>()));
        services.AddSingleton<MeshRegistry>();
        services.AddSingleton<MeshBroker>();
        services.AddSingleton<ComponentHost>();
        services.AddSingleton<AppChannel>();
        services.AddSingleton<AppHealthMonitor>();
        services.AddSingleton<StateApi>();
        services.AddSingleton<PubSubApi>();
        services.AddSingleton<StateOutbox>();
        services.AddSingleton<Subscriptions>();
        services.AddSingleton<InvocationApi>();
        services.AddSingleton<BindingsApi>();
        services.AddSingleton<SecretsApi>();
        services.AddSingleton<ConfigurationApi>();
        services.AddSingleton<LockApi>();
        services.AddSingleton<MetadataApi>();
        services.AddSingleton<WorkItemDispatcher>();
        services.AddSingleton<WorkflowEngine>();
        services.AddSingleton<Workflows.DaprWorkflowApi>();
        services.AddSingleton<Runtime.Actors.ActorPlacement>();
        services.AddSingleton<Runtime.Actors.ActorRuntime>();
        services.AddSingleton<Runtime.Actors.ActorStateApi>();
        services.AddSingleton<Runtime.Actors.ActorReminders>();
        services.AddSingleton<Runtime.Jobs.JobStore>();
        services.AddSingleton<Runtime.Jobs.JobsApi>();
        services.AddHostedService<SidecarRuntimeHost>();
        // After the runtime host, so it stops first, before the components close.
        services.AddHostedService<StateOutboxRelay>();
        services.AddHostedService<Runtime.Jobs.JobTriggers>();

        services.AddHttpClient(AppChannel.ClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) })
            .ConfigureHttpClient(c => c.Timeout = Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers();
        services.AddHttpClient("mesh")
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1) })
            .ConfigureHttpClient(c => c.Timeout = Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers();
        services.AddHttpClient("components").RemoveAllLoggers();

        services.AddSingleton<ApiTokenInterceptor>();
        services.AddGrpc(o =>
        {
            o.Interceptors.Add<ApiTokenInterceptor>();
            o.Interceptors.Add<ApiAllowListInterceptor>();
            o.MaxReceiveMessageSize = (int)Math.Min(options.MaxRequestBytes, int.MaxValue);
            o.EnableDetailedErrors = false;
        });
        var descriptors = Dapr.Client.Autogen.Grpc.v1.DaprReflection.Descriptor.Services
            .Concat(Dapr.DurableTask.Protobuf.OrchestratorServiceReflection.Descriptor.Services).ToList();
        services.AddSingleton(new ReflectionServiceImpl(descriptors));
        services.AddSingleton(new ReflectionV1ServiceImpl(descriptors));

        configure?.Invoke(builder);
        var app = builder.Build();

        // Components load before the ports open, as in daprd: a bad component stops the sidecar here.
        await app.Services.GetRequiredService<ComponentHost>().StartAsync(CancellationToken.None);
        // The workflow engine loads and resumes its instances in the background; its API waits for that.
        _ = app.Services.GetRequiredService<WorkflowEngine>().StartAsync(app.Lifetime.ApplicationStopping);

        // daprd's HTTP server (fasthttp) collapses repeated slashes, and the .NET SDK relies on it: its default endpoint
        // ends in '/', so actor proxies ask for "//v1.0/actors/...". Routing runs after the rewrite.
        app.Use((context, next) =>
        {
            if (context.Request.Path.Value is { } path && path.Contains("//", StringComparison.Ordinal))
            {
                context.Request.Path = new PathString(RepeatedSlashes().Replace(path, "/"));
            }
            return next(context);
        });
        if (MetricsPort(options, resources) is { } metricsPort)
        {
            // daprd's metrics server: Prometheus text at /metrics on its own port, without the API token.
            app.UseOpenTelemetryPrometheusScrapingEndpoint(c => c.Connection.LocalPort == metricsPort && c.Request.Path == "/metrics");
        }
        var metrics = app.Services.GetRequiredService<SidecarMetrics>();
        app.Use(async (context, next) =>
        {
            // daprd's API server views: every call, refused ones included, but not the health checks or the metrics port.
            if (!metrics.ServerEnabled || context.Connection.LocalPort == options.MetricsPort || context.Request.Path.StartsWithSegments("/v1.0/healthz"))
            {
                await next(context);
                return;
            }
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                await next(context);
            }
            finally
            {
                metrics.ServerRequest(context, System.Diagnostics.Stopwatch.GetElapsedTime(started));
            }
        });
        app.UseRouting();
        app.UsePortGuard(options, resources);
        app.UseDaprApiToken(options);
        app.UseDaprErrors();
        app.MapGrpcService<DaprGrpcService>();
        app.MapGrpcService<TaskHubGrpcService>();
        app.MapGrpcService<ReflectionServiceImpl>();
        app.MapGrpcService<ReflectionV1ServiceImpl>();
        app.MapDaprHttpApi();
        app.MapActorApi();
        app.MapWorkflowApi();
        app.MapJobsApi();
        // "{**path}", not MapFallback's default "{*path:nonfile}": an invoked method may look like a file (/openapi/v1.json).
        app.MapFallback("{**path}", async (HttpContext context, InvocationApi invocation) =>
        {
            if (!await Invoke.TryHeaderFormAsync(context, invocation))
            {
                await HttpApi.Error(DaprErrors.NoAppId()).ExecuteAsync(context);
            }
        });
        return app;
    }

    private static void ConfigureLogging(WebApplicationBuilder builder, SidecarOptions options)
    {
        var level = options.LogLevel switch
        {
            "debug" => LogLevel.Debug,
            "info" => LogLevel.Information,
            "warn" or "warning" => LogLevel.Warning,
            "error" => LogLevel.Error,
            "fatal" => LogLevel.Critical,
            _ => throw new SidecarStartupException($"invalid value \"{options.LogLevel}\" for flag -log-level: use debug, info, warn, error or fatal"),
        };
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
            o.UseUtcTimestamp = true;
        });
        builder.Logging.SetMinimumLevel(level);
        // Kestrel and routing chatter drowns the sidecar's own lines below warnings.
        builder.Logging.AddFilter("Microsoft", level < LogLevel.Warning ? LogLevel.Warning : level);
        builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);
        builder.Logging.AddFilter("Grpc", LogLevel.Warning);
    }

    private static void ConfigureKestrel(WebApplicationBuilder builder, SidecarOptions options, int? metricsPort)
    {
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = options.MaxRequestBytes;
            foreach (var address in options.ListenAddresses)
            {
                var ip = address is "localhost" ? IPAddress.Loopback : IPAddress.Parse(address);
                k.Listen(ip, options.DaprHttpPort, l => l.Protocols = HttpProtocols.Http1);
                k.Listen(ip, options.DaprGrpcPort, l => l.Protocols = HttpProtocols.Http2);
                if (metricsPort is { } port)
                {
                    k.Listen(ip, port, l => l.Protocols = HttpProtocols.Http1);
                }
            }
        });
    }

    /// <summary>The port Prometheus scrapes, when metrics are on (<c>--enable-metrics</c>, <c>spec.metrics.enabled</c>) and one was given.</summary>
    internal static int? MetricsPort(SidecarOptions options, LoadedResources resources) =>
        options.EnableMetrics && resources.Configuration.MetricsEnabled ? options.MetricsPort : null;

    /// <summary>
    /// daprd's component metrics (<see cref="SidecarMetrics"/>) with the runtime's own (requests served and sent, GC,
    /// thread pool), for Prometheus on <c>--metrics-port</c> and over OTLP wherever traces go (the Aspire dashboard).
    /// </summary>
    private static void ConfigureMetrics(WebApplicationBuilder builder, SidecarOptions options, LoadedResources resources)
    {
        var otlp = Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT") ?? resources.Configuration.OtelEndpoint;
        var prometheus = MetricsPort(options, resources) is not null;
        if (!options.EnableMetrics || !resources.Configuration.MetricsEnabled || (string.IsNullOrEmpty(otlp) && !prometheus))
        {
            return;
        }
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME") ?? $"{options.AppId}-dapr"))
            .WithMetrics(m =>
            {
                m.AddMeter(SidecarMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http", "System.Runtime");
                if (prometheus)
                {
                    // daprd's counters carry no _total suffix (OpenCensus names them as they are).
                    m.AddPrometheusExporter(o => o.DisableTotalNameSuffixForCounters = true);
                }
                if (!string.IsNullOrEmpty(otlp))
                {
                    m.AddOtlpExporter(o =>
                    {
                        if (Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT") is null)
                        {
                            o.Endpoint = new Uri(otlp);
                        }
                    });
                }
            });
    }

    private static void ConfigureTracing(WebApplicationBuilder builder, SidecarOptions options, LoadedResources resources)
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT");
        var endpoint = fromEnvironment ?? resources.Configuration.OtelEndpoint;
        if (string.IsNullOrEmpty(endpoint))
        {
            // No exporter: still create activities so that traceparent flows through every hop.
            SidecarTelemetry.Listen(resources.Configuration.SamplingRate);
            return;
        }
        var serviceName = Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME") ?? $"{options.AppId}-dapr";
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName))
            .WithTracing(t => t
                .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(resources.Configuration.SamplingRate)))
                .AddSource(SidecarTelemetry.SourceName)
                .AddAspNetCoreInstrumentation(o => o.Filter = c => !c.Request.Path.StartsWithSegments("/v1.0/healthz"))
                .AddHttpClientInstrumentation()
                .AddOtlpExporter(o =>
                {
                    // The OTEL_EXPORTER_OTLP_* variables (as Aspire sets them) configure the exporter themselves.
                    if (fromEnvironment is null)
                    {
                        o.Endpoint = new Uri(endpoint);
                    }
                }));
    }

    [System.Text.RegularExpressions.GeneratedRegex("/{2,}")]
    private static partial System.Text.RegularExpressions.Regex RepeatedSlashes();
}
