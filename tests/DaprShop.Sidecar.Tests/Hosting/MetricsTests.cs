using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DaprShop.Sidecar.Tests.Hosting;

public sealed class MetricsTests
{
    private static ResourcesFolder StoreAndBroker() => new ResourcesFolder()
        .WithComponent("store", "state.in-memory")
        .WithComponent("pubsub", "pubsub.in-memory");

    private static async Task<TestApp> SubscriberAsync() => await TestApp.StartAsync(a =>
    {
        a.MapGet("/dapr/subscribe", () => Results.Json(new[] { new { pubsubname = "pubsub", topic = "orders", route = "/orders" } }));
        a.MapPost("/orders", () => Results.Json(new { status = "DROP" }));
        a.MapMethods("/ticks", ["OPTIONS"], () => Results.Ok());
        a.MapPost("/ticks", () => Results.Ok());
        a.MapGet("/hello", () => "hi");
    });

    /// <summary>The value of one Prometheus series whose labels include all of <paramref name="labels"/>, or null.</summary>
    private static double? Series(string scrape, string name, params string[] labels) =>
        scrape.Split('\n')
            .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) && labels.All(label => l.Contains(label, StringComparison.Ordinal)))
            .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture))
            .Cast<double?>()
            .FirstOrDefault();

    /// <summary>The options of a sidecar for <paramref name="appId"/> that serves Prometheus on <paramref name="metricsPort"/>.</summary>
    private static SidecarProcess.Options Measured(string appId, int appPort, ResourcesFolder resources, TestMesh mesh, int metricsPort) => new()
    {
        AppId = appId,
        AppPort = appPort,
        ResourcesPaths = [resources.Path],
        MeshDirectory = mesh.Directory,
        ExtraArgs = ["--metrics-port", metricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture)],
    };

    [Fact]
    public async Task Prometheus_scrapes_daprds_component_metrics_on_the_metrics_port_and_nothing_else_is_served_there()
    {
        using var mesh = new TestMesh();
        using var files = new ResourcesFolder(); // an empty temporary folder, for the localstorage binding's files
        using var resources = StoreAndBroker()
            .WithComponent("env", "secretstores.local.env")
            .WithComponent("files", "bindings.localstorage", ("rootPath", files.Path))
            .WithComponent("ticks", "bindings.cron", ("schedule", "@every 1s"), ("route", "/ticks"))
            .With("broken.yaml", """
                apiVersion: dapr.io/v1alpha1
                kind: Component
                metadata:
                  name: broken
                spec:
                  type: state.sqlite
                  version: v1
                  ignoreErrors: true
                  metadata:
                  - name: connectionString
                    value: /proc/no-such-folder/state.db
                """);
        await using var app = await SubscriberAsync();
        var metricsPort = Ports.Free();
        await using var sidecar = await SidecarProcess.StartAsync(Measured("measured", app.Port, resources, mesh, metricsPort) with { ApiToken = "secret" });
        using var http = sidecar.CreateHttpClient(); // with the API token

        (await http.PostAsync("/v1.0/state/store", new StringContent("""[{"key":"a","value":1},{"key":"b","value":2}]""", Encoding.UTF8, "application/json"))).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await http.GetAsync("/v1.0/state/store/a")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await http.GetAsync("/v1.0/state/store/a")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await http.DeleteAsync("/v1.0/state/store/b")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await http.PostAsync("/v1.0/state/store", new StringContent("""[{"key":"a","value":3,"etag":"999"}]""", Encoding.UTF8, "application/json"))).StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await http.PostAsync("/v1.0/state/nostore", new StringContent("""[{"key":"a","value":1}]""", Encoding.UTF8, "application/json"))).IsSuccessStatusCode.Should().BeFalse();
        (await http.PostAsync("/v1.0/publish/pubsub/orders", new StringContent("""{"n":1}""", Encoding.UTF8, "application/json"))).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await http.GetAsync("/v1.0/secrets/env/PATH")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await http.PostAsync("/v1.0/bindings/files", new StringContent("""{"operation":"create","data":"hello","metadata":{"fileName":"a.txt"}}""", Encoding.UTF8, "application/json"))).IsSuccessStatusCode.Should().BeTrue();
        await Eventually.HoldsAsync(() => app.RequestsTo("/orders").Any() && app.RequestsTo("/ticks").Any(r => r.Method == "POST"), "the event and a cron tick are delivered");
        (await http.GetStringAsync("/v1.0/invoke/measured/method/hello?x=1")).Should().Be("hi");
        using (var anonymous = new HttpClient { BaseAddress = http.BaseAddress })
        {
            (await anonymous.GetAsync("/v1.0/state/store/a")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        }
        using var channel = global::Grpc.Net.Client.GrpcChannel.ForAddress($"http://127.0.0.1:{sidecar.GrpcPort}");
        var grpc = new Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient(channel);
        var token = new global::Grpc.Core.Metadata { { "dapr-api-token", "secret" } };
        (await grpc.GetStateAsync(new() { StoreName = "store", Key = "a" }, token)).Data.ToStringUtf8().Should().Be("1");
        var unknownStore = async () => await grpc.GetStateAsync(new() { StoreName = "nostore", Key = "a" }, token);
        await unknownStore.Should().ThrowAsync<global::Grpc.Core.RpcException>();

        // Prometheus needs no API token: daprd's metrics server is not part of its API.
        using var scraper = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}") };
        string scrape = "";
        await Eventually.HoldsAsync(async () =>
        {
            scrape = await scraper.GetStringAsync("/metrics");
            return Series(scrape, "dapr_component_pubsub_ingress_count", "process_status=\"drop\"") is not null;
        }, TimeSpan.FromSeconds(20), "the delivery is counted once the app has answered");

        string[] state = ["app_id=\"measured\"", "component=\"store\"", "success=\"true\""];
        Series(scrape, "dapr_component_state_count", [.. state, "operation=\"set\""]).Should().Be(1, "one save call, whatever its number of items");
        Series(scrape, "dapr_component_state_count", [.. state, "operation=\"get\""]).Should().Be(3, "two reads over HTTP and one over gRPC");
        Series(scrape, "dapr_component_state_count", [.. state, "operation=\"delete\""]).Should().Be(1);
        Series(scrape, "dapr_component_state_count", "component=\"store\"", "operation=\"set\"", "success=\"false\"").Should().Be(1, "the refused save is counted as failed");
        scrape.Should().NotContain("nostore", "as in daprd, a call to an unknown store reaches no component and is not counted");
        Series(scrape, "dapr_component_state_latencies_count", [.. state, "operation=\"get\""]).Should().Be(3, "every call's latency is in the histogram");
        Regex.IsMatch(scrape, "dapr_component_state_latencies_bucket\\{[^}]*le=\"1\"").Should().BeTrue("the histogram uses daprd's buckets, in milliseconds");
        Series(scrape, "dapr_component_pubsub_egress_count", "component=\"pubsub\"", "topic=\"orders\"", "success=\"true\"").Should().Be(1);
        Series(scrape, "dapr_component_pubsub_ingress_count", "component=\"pubsub\"", "topic=\"orders\"", "process_status=\"drop\"").Should().Be(1);
        Series(scrape, "dapr_component_secret_count", "component=\"env\"", "operation=\"get\"", "success=\"true\"").Should().Be(1);
        Series(scrape, "dapr_component_output_binding_count", "component=\"files\"", "operation=\"create\"", "success=\"true\"").Should().Be(1);
        Series(scrape, "dapr_component_input_binding_count", "component=\"ticks\"", "success=\"true\"").Should().BeGreaterThanOrEqualTo(1);
        Series(scrape, "dapr_http_server_request_count", "app_id=\"measured\"", "method=\"GET\"", "status=\"200\"").Should().Be(4, "two state reads, a secret read and an invocation answered 200");
        // The app invoked itself, so this one sidecar is both the caller and the callee.
        Series(scrape, "dapr_runtime_service_invocation_req_sent_total", "dst_app_id=\"measured\"", "method=\"hello\"").Should().Be(1);
        Series(scrape, "dapr_runtime_service_invocation_res_recv_total", "src_app_id=\"measured\"", "method=\"hello\"", "status=\"200\"").Should().Be(1);
        Series(scrape, "dapr_runtime_service_invocation_res_recv_latency_ms_count", "src_app_id=\"measured\"", "method=\"hello\"").Should().Be(1);
        Series(scrape, "dapr_runtime_service_invocation_req_recv_total", "src_app_id=\"measured\"", "method=\"hello\"").Should().Be(1);
        Series(scrape, "dapr_runtime_service_invocation_res_sent_total", "dst_app_id=\"measured\"", "method=\"hello\"", "status=\"200\"").Should().Be(1);
        Series(scrape, "dapr_http_server_request_count", "method=\"GET\"", "status=\"401\"").Should().Be(1, "a call refused for its token is counted too");
        Series(scrape, "dapr_http_server_latency_count", "method=\"POST\"", "status=\"204\"").Should().BeGreaterThanOrEqualTo(2);
        Series(scrape, "dapr_grpc_io_server_completed_rpcs", "grpc_server_method=\"dapr.proto.runtime.v1.Dapr/GetState\"", "grpc_server_status=\"OK\"").Should().Be(1);
        Series(scrape, "dapr_grpc_io_server_completed_rpcs", "grpc_server_method=\"dapr.proto.runtime.v1.Dapr/GetState\"", "grpc_server_status=\"INVALID_ARGUMENT\"").Should().Be(1, "an unknown store is InvalidArgument over gRPC");
        Series(scrape, "dapr_http_server_request_count", "method=\"GET\"", "status=\"204\"").Should().BeNull("the health checks (204) the harness polled are not counted");
        Series(scrape, "dapr_runtime_component_loaded", "app_id=\"measured\"").Should().Be(5, "five components loaded; the broken one was skipped");
        Series(scrape, "dapr_runtime_component_init_total", "component=\"bindings.cron\"").Should().Be(1);
        Series(scrape, "dapr_runtime_component_init_total", "component=\"state.sqlite\"").Should().BeNull();
        Series(scrape, "dapr_runtime_component_init_fail_total", "component=\"state.sqlite\"", "reason=\"init\"", "componentName=\"broken\"").Should().Be(1);
        scrape.Should().NotContain("dapr_component_state_count_total", "daprd's counters have no _total suffix");
        scrape.Should().Contain("http_server_request_duration", "the runtime's own metrics come along, as daprd's process and Go collectors do");

        (await scraper.GetAsync("/v1.0/state/store/a")).StatusCode.Should().Be(HttpStatusCode.NotFound, "the metrics port serves /metrics only");
        (await http.GetAsync("/metrics")).IsSuccessStatusCode.Should().BeFalse("the API port does not serve the metrics");
    }

    private static async Task<string> ScrapeWhenAsync(int metricsPort, Func<string, bool> ready, string because)
    {
        using var scraper = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}") };
        var scrape = "";
        await Eventually.HoldsAsync(async () => ready(scrape = await scraper.GetStringAsync("/metrics")), TimeSpan.FromSeconds(20), because);
        return scrape;
    }

    [Fact]
    public async Task Workflow_operations_executions_and_activities_are_counted_under_daprds_workflow_metrics()
    {
        var metricsPort = Ports.Free();
        await using var host = await Workflows.WorkflowHost.StartAsync(sidecarArgs: ["--metrics-port", metricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        var client = host.Client;

        var chain = await client.ScheduleNewWorkflowAsync(nameof(Workflows.ChainWorkflow), input: "x");
        (await client.WaitForWorkflowCompletionAsync(chain)).RuntimeStatus.Should().Be(Dapr.Workflow.WorkflowRuntimeStatus.Completed);
        var failing = await client.ScheduleNewWorkflowAsync(nameof(Workflows.FailingWorkflow), input: "x");
        (await client.WaitForWorkflowCompletionAsync(failing)).RuntimeStatus.Should().Be(Dapr.Workflow.WorkflowRuntimeStatus.Failed);
        var approved = await client.ScheduleNewWorkflowAsync(nameof(Workflows.EventWorkflow), input: "order");
        await client.WaitForWorkflowStartAsync(approved);
        await client.RaiseEventAsync(approved, "approval", "yes");
        (await client.WaitForWorkflowCompletionAsync(approved)).RuntimeStatus.Should().Be(Dapr.Workflow.WorkflowRuntimeStatus.Completed);
        var terminated = await client.ScheduleNewWorkflowAsync(nameof(Workflows.EventWorkflow), input: "order");
        await client.WaitForWorkflowStartAsync(terminated);
        await client.TerminateWorkflowAsync(terminated);
        (await client.WaitForWorkflowCompletionAsync(terminated)).RuntimeStatus.Should().Be(Dapr.Workflow.WorkflowRuntimeStatus.Terminated);
        (await client.GetWorkflowStateAsync(chain))!.Exists.Should().BeTrue();
        (await client.PurgeInstanceAsync(chain)).Should().BeTrue();

        var scrape = await ScrapeWhenAsync(metricsPort, s => Series(s, "dapr_runtime_workflow_operation_count", "operation=\"purge_workflow\"") is not null, "the purge is counted");

        string[] app = ["app_id=\"wfapp\"", "namespace=\"default\""];
        Series(scrape, "dapr_runtime_workflow_operation_count", [.. app, "operation=\"create_workflow\"", "status=\"success\""]).Should().Be(4);
        Series(scrape, "dapr_runtime_workflow_operation_count", [.. app, "operation=\"add_event\"", "status=\"success\""]).Should().Be(2, "a raised event and a termination are both events added to an instance, as daprd counts them");
        Series(scrape, "dapr_runtime_workflow_operation_count", [.. app, "operation=\"get_workflow\"", "status=\"success\""]).Should().BeGreaterThanOrEqualTo(1);
        Series(scrape, "dapr_runtime_workflow_operation_count", [.. app, "operation=\"purge_workflow\"", "status=\"success\""]).Should().Be(1);
        Series(scrape, "dapr_runtime_workflow_operation_latency_count", [.. app, "operation=\"create_workflow\"", "status=\"success\""]).Should().Be(4);
        Series(scrape, "dapr_runtime_workflow_execution_count", [.. app, "workflow_name=\"ChainWorkflow\"", "status=\"success\""]).Should().Be(1);
        Series(scrape, "dapr_runtime_workflow_execution_count", [.. app, "workflow_name=\"FailingWorkflow\"", "status=\"failed\""]).Should().Be(1);
        Series(scrape, "dapr_runtime_workflow_execution_count", [.. app, "workflow_name=\"EventWorkflow\"", "status=\"success\""]).Should().Be(1);
        Series(scrape, "dapr_runtime_workflow_execution_count", [.. app, "workflow_name=\"EventWorkflow\"", "status=\"failed\""]).Should().Be(1, "a terminated workflow counts as failed, as in daprd");
        Series(scrape, "dapr_runtime_workflow_execution_latency_count", [.. app, "workflow_name=\"ChainWorkflow\"", "status=\"success\""]).Should().Be(1);
        Series(scrape, "dapr_runtime_workflow_scheduling_latency_count", [.. app, "workflow_name=\"ChainWorkflow\""]).Should().Be(1, "one first turn");
        Series(scrape, "dapr_runtime_workflow_activity_execution_count", [.. app, "activity_name=\"ConcatActivity\"", "status=\"success\""]).Should().Be(3);
        Series(scrape, "dapr_runtime_workflow_activity_execution_count", [.. app, "activity_name=\"BoomActivity\"", "status=\"failed\""]).Should().Be(1);
        Series(scrape, "dapr_runtime_workflow_activity_execution_latency_count", [.. app, "activity_name=\"ConcatActivity\"", "status=\"success\""]).Should().Be(3);
    }

    [Fact]
    public async Task Actor_timers_reminders_and_deactivations_are_counted_under_daprds_actor_metrics()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().WithComponent("actorstore", "state.in-memory", ("actorStateStore", "true"));
        var metricsPort = Ports.Free();
        var sidecarPort = Ports.Free();
        var probe = new Actors.ActorProbe("metered");
        await using var app = await Actors.ActorApp.StartAppAsync(probe, sidecarPort, o =>
        {
            o.ActorIdleTimeout = TimeSpan.FromSeconds(2);
            o.ActorScanInterval = TimeSpan.FromSeconds(1);
        });
        await using var sidecar = await SidecarProcess.StartAsync(Measured("counters", app.Port, resources, mesh, metricsPort) with { HttpPort = sidecarPort });

        var ticking = Actors.ActorApp.Counter(sidecarPort, "ticking");
        await ticking.StartTimer(100);
        await ticking.RegisterReminder("nudge", 100, 60_000, 0, "hello");
        await Eventually.HoldsAsync(() => probe.TimerFires.GetValueOrDefault("ticking") >= 2 && probe.RemindersOf("ticking", "nudge") >= 1, "the timer and the reminder fire");
        var held = await ScrapeWhenAsync(metricsPort, s => Series(s, "dapr_runtime_actor_reminders_fired_total", "success=\"true\"") is not null, "the reminder's firing is counted");

        string[] counters = ["app_id=\"counters\"", "actor_type=\"CounterActor\""];
        Series(held, "dapr_runtime_actor_timers_fired_total", [.. counters, "success=\"true\""]).Should().BeGreaterThanOrEqualTo(2);
        Series(held, "dapr_runtime_actor_reminders_fired_total", [.. counters, "success=\"true\""]).Should().Be(1, "a minute-long period fires once in this test");
        Series(held, "dapr_runtime_actor_timers", counters).Should().Be(1, "one timer is held");
        Series(held, "dapr_runtime_actor_reminders", counters).Should().Be(1, "one reminder is held");

        await ticking.StopTimer();
        await ticking.UnregisterReminder("nudge");
        await Eventually.HoldsAsync(() => probe.Deactivated.Contains("ticking"), TimeSpan.FromSeconds(20), "the idle actor is deactivated");
        var after = await ScrapeWhenAsync(metricsPort, s => Series(s, "dapr_runtime_actor_deactivated_total", counters) is not null, "the deactivation is counted");
        Series(after, "dapr_runtime_actor_deactivated_total", counters).Should().Be(1);
        Series(after, "dapr_runtime_actor_reminders", counters).Should().BeNull("no reminder is held any more");
        Series(after, "dapr_runtime_actor_deactivated_failed_total", counters).Should().BeNull();
    }

    [Fact]
    public async Task Resiliency_policies_applied_and_activated_are_counted_under_daprds_resiliency_metrics()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().With("resiliency.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Resiliency
            metadata:
              name: shop-resiliency
            spec:
              policies:
                timeouts:
                  quick: 100ms
                retries:
                  twice:
                    policy: constant
                    duration: 10ms
                    maxRetries: 2
                circuitBreakers:
                  cb:
                    maxRequests: 1
                    timeout: 30s
                    trip: consecutiveFailures > 2
              targets:
                apps:
                  measured:
                    timeout: quick
                    retry: twice
                    circuitBreaker: cb
            """);
        await using var app = await TestApp.StartAsync(a =>
        {
            a.MapGet("/boom", () => Results.StatusCode(500));
            a.MapGet("/slow", async () => { await Task.Delay(1000); return "late"; });
        });
        var metricsPort = Ports.Free();
        await using var sidecar = await SidecarProcess.StartAsync(Measured("measured", app.Port, resources, mesh, metricsPort));
        using var http = sidecar.CreateHttpClient();

        // Three failed attempts: two retries, and the third failure in a row trips /boom's breaker.
        (await http.GetAsync("/v1.0/invoke/measured/method/boom")).StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        // Three attempts cut short by the timeout: three timeouts, two retries, and /slow's own breaker trips.
        (await http.GetAsync("/v1.0/invoke/measured/method/slow")).IsSuccessStatusCode.Should().BeFalse();
        // Refused by the open breaker: the call sees the breaker open.
        (await http.GetAsync("/v1.0/invoke/measured/method/boom")).IsSuccessStatusCode.Should().BeFalse();
        app.RequestsTo("/boom").Should().HaveCount(3, "the open breaker kept the last call from the app");

        var scrape = await ScrapeWhenAsync(metricsPort, s => Series(s, "dapr_resiliency_count", "status=\"open\"") is not null, "the refused call is counted");
        string[] target = ["app_id=\"measured\"", "name=\"shop-resiliency\"", "flow_direction=\"outbound\"", "target=\"app_measured\""];
        Series(scrape, "dapr_resiliency_loaded", "app_id=\"measured\"", "name=\"shop-resiliency\"").Should().Be(1);
        Series(scrape, "dapr_resiliency_count", [.. target, "policy=\"timeout\""]).Should().Be(3, "each call applies the target's timeout");
        Series(scrape, "dapr_resiliency_count", [.. target, "policy=\"retry\""]).Should().Be(3);
        Series(scrape, "dapr_resiliency_count", [.. target, "policy=\"circuitbreaker\"", "status=\"closed\""]).Should().Be(2);
        Series(scrape, "dapr_resiliency_count", [.. target, "policy=\"circuitbreaker\"", "status=\"open\""]).Should().Be(1);
        Series(scrape, "dapr_resiliency_activations_total", [.. target, "policy=\"retry\""]).Should().Be(4, "two retries of each failing call");
        Series(scrape, "dapr_resiliency_activations_total", [.. target, "policy=\"timeout\""]).Should().Be(3);
        Series(scrape, "dapr_resiliency_activations_total", [.. target, "policy=\"circuitbreaker\"", "status=\"open\""]).Should().Be(2, "each method's breaker opened once");
        Series(scrape, "dapr_resiliency_cb_state", [.. target, "status=\"open\""]).Should().Be(1, "the breaker was open at its last call");
        Series(scrape, "dapr_resiliency_cb_state", [.. target, "status=\"closed\""]).Should().Be(0);
    }

    [Fact]
    public async Task Metrics_go_over_otlp_with_the_traces_and_turning_them_off_closes_the_metrics_port()
    {
        using var mesh = new TestMesh();
        using var resources = StoreAndBroker();
        // Kept apart from the resources folder, as a --config file is.
        using var config = new ResourcesFolder().With("config.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Configuration
            metadata:
              name: no-metrics
            spec:
              metrics:
                enabled: false
            """);
        await using var collector = await TestApp.StartAsync(a =>
        {
            a.MapPost("/v1/metrics", () => Results.Ok());
            a.MapPost("/v1/traces", () => Results.Ok());
        });
        var otlp = new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{collector.Port}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "200",
        };
        await using var exporting = await SidecarProcess.StartAsync(new() { AppId = "exporting", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, Environment = otlp });
        using var http = exporting.CreateHttpClient();
        (await http.PostAsync("/v1.0/state/store", new StringContent("""[{"key":"a","value":1}]""", Encoding.UTF8, "application/json"))).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await Eventually.HoldsAsync(
            () => collector.RequestsTo("/v1/metrics").Any(r => r.Body.AsSpan().IndexOf("dapr_component_state_count"u8) >= 0),
            "the collector receives the state metric");

        var metricsPort = Ports.Free();
        await using var silent = await SidecarProcess.StartAsync(new()
        {
            AppId = "silent",
            ResourcesPaths = [resources.Path],
            MeshDirectory = mesh.Directory,
            ConfigPath = Path.Combine(config.Path, "config.yaml"),
            ExtraArgs = ["--metrics-port", metricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture)],
        });
        using var scraper = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}") };
        var scrape = async () => await scraper.GetAsync("/metrics");
        await scrape.Should().ThrowAsync<HttpRequestException>("spec.metrics.enabled: false leaves the port closed, as in daprd");
    }
}
