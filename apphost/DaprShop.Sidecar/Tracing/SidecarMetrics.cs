using System.Diagnostics;
using System.Diagnostics.Metrics;
using DaprShop.Sidecar.Hosting;
using Microsoft.AspNetCore.Http;

namespace DaprShop.Sidecar.Tracing;

/// <summary>
/// daprd's metrics under daprd's names and labels (dapr/dapr's docs/development/dapr-metrics.md), so that a dashboard
/// or an alert written for daprd reads this sidecar's as well: calls to the HTTP and gRPC APIs, service invocations on
/// both sides, state and secret calls, output binding invocations and input binding events, publishes and deliveries,
/// each a count and a latency in milliseconds. They are exported to Prometheus on <c>--metrics-port</c> and over OTLP
/// when an endpoint is configured (<see cref="SidecarApp"/>); with neither, nothing listens and recording costs nothing.
/// </summary>
public sealed class SidecarMetrics
{
    public const string MeterName = "DaprShop.Sidecar";

    // The operation label of a state call, as daprd names them.
    public const string Get = "get";
    public const string Set = "set";
    public const string Delete = "delete";
    public const string BulkGet = "bulk_get";
    public const string BulkDelete = "bulk_delete";
    public const string Transaction = "transaction";
    public const string Query = "query";

    private readonly string _appId;
    private readonly string _namespace;
    private readonly Instruments _state;
    private readonly Instruments _secret;
    private readonly Instruments _outputBinding;
    private readonly Instruments _inputBinding;
    private readonly Instruments _egress;
    private readonly Instruments _ingress;
    private readonly Instruments _http;
    private readonly Instruments _grpc;
    private readonly Instruments _invokeResponsesReceived;
    private readonly Counter<long> _invokeRequestsSent;
    private readonly Counter<long> _invokeRequestsReceived;
    private readonly Counter<long> _invokeResponsesSent;
    private Func<IEnumerable<(string Type, string Name)>> _initialized = () => [];
    private Func<IEnumerable<(string Type, string Name)>> _failed = () => [];

    public SidecarMetrics(IMeterFactory meters, SidecarOptions options)
    {
        _appId = options.AppId;
        _namespace = options.NamespaceOrDefault;
        var meter = meters.Create(MeterName);
        _state = Component(meter, "state", "operations performed on the state component", "response from the state component");
        _secret = Component(meter, "secret", "operations performed on the secret component", "response from the secret component");
        _outputBinding = Component(meter, "output_binding", "operations invoked on the output binding component", "response from the output binding component");
        _inputBinding = Component(meter, "input_binding", "incoming events arriving from the input binding component", "triggered app event processing");
        _egress = Component(meter, "pubsub_egress", "outgoing messages published to the pub/sub component", "response from the pub/sub component");
        _ingress = Component(meter, "pubsub_ingress", "incoming messages arriving from the pub/sub component", "consuming app event processing");
        _http = Instruments.Pair(meter, "dapr_http_server_request_count", "Number of HTTP requests started in server.",
            "dapr_http_server_latency", "HTTP request end to end latency in server.");
        _grpc = Instruments.Pair(meter, "dapr_grpc_io_server_completed_rpcs", "Count of RPCs by method and status.",
            "dapr_grpc_io_server_server_latency", "Distribution of server latency in milliseconds, by method.");
        _invokeResponsesReceived = Instruments.Pair(meter, "dapr_runtime_service_invocation_res_recv_total", "The number of responses received via service invocation.",
            "dapr_runtime_service_invocation_res_recv_latency_ms", "The latency of service invocation response.");
        _invokeRequestsSent = meter.CreateCounter<long>("dapr_runtime_service_invocation_req_sent_total", description: "The number of requests sent via service invocation.");
        _invokeRequestsReceived = meter.CreateCounter<long>("dapr_runtime_service_invocation_req_recv_total", description: "The number of requests received via service invocation.");
        _invokeResponsesSent = meter.CreateCounter<long>("dapr_runtime_service_invocation_res_sent_total", description: "The number of responses sent via service invocation.");
        // Read from the component host when an exporter collects: components load before any exporter may listen.
        meter.CreateObservableCounter("dapr_runtime_component_loaded", () => new Measurement<long>(_initialized().LongCount(), new TagList { { "app_id", _appId } }),
            unit: null, "The number of successfully loaded components.");
        meter.CreateObservableCounter("dapr_runtime_component_init_total",
            () => _initialized().GroupBy(c => c.Type).Select(g => new Measurement<long>(g.LongCount(), new TagList { { "app_id", _appId }, { "component", g.Key } })),
            unit: null, "The number of initialized components.");
        meter.CreateObservableCounter("dapr_runtime_component_init_fail_total",
            () => _failed().GroupBy(c => c).Select(g => new Measurement<long>(g.LongCount(),
                new TagList { { "app_id", _appId }, { "component", g.Key.Type }, { "reason", "init" }, { "componentName", g.Key.Name } })),
            unit: null, "The number of component initialization failures.");
    }

    // daprd names a component kind's pair dapr_component_{kind}_count and dapr_component_{kind}_latencies.
    private static Instruments Component(Meter meter, string kind, string counted, string timed) =>
        Instruments.Pair(meter, $"dapr_component_{kind}_count", $"The number of {counted}.", $"dapr_component_{kind}_latencies", $"The latency of the {timed}.");

    /// <summary>Where the component series read the components initialised and those that failed and were skipped (<c>ignoreErrors</c>).</summary>
    public void CountComponentsWith(Func<IEnumerable<(string Type, string Name)>> initialized, Func<IEnumerable<(string Type, string Name)>> failed) =>
        (_initialized, _failed) = (initialized, failed);

    /// <summary>Runs one state API call and records it (<c>success</c> is whether it returned).</summary>
    public Task<T> StateAsync<T>(string component, string operation, Func<Task<T>> call) => MeasuredAsync(_state, component, operation, call);

    public Task StateAsync(string component, string operation, Func<Task> call) =>
        MeasuredAsync(_state, component, operation, async () => { await call(); return true; });

    /// <summary>A secrets API call (<see cref="Get"/> or <see cref="BulkGet"/>).</summary>
    public Task<T> SecretAsync<T>(string component, string operation, Func<Task<T>> call) => MeasuredAsync(_secret, component, operation, call);

    /// <summary>An output binding invoked with <paramref name="operation"/> (the binding's own operation name).</summary>
    public Task<T> OutputBindingAsync<T>(string component, string operation, Func<Task<T>> call) => MeasuredAsync(_outputBinding, component, operation, call);

    /// <summary>An input binding's event delivered to the app (daprd labels it without an operation).</summary>
    public Task<T> InputBindingAsync<T>(string component, Func<Task<T>> call) => MeasuredAsync(_inputBinding, component, null, call);

    private Task<T> MeasuredAsync<T>(Instruments instruments, string component, string? operation, Func<Task<T>> call) =>
        instruments.MeasureAsync(call, (Metrics: this, Component: component, Operation: operation),
            static (l, success) => l.Metrics.ComponentTags(l.Component, l.Operation, success));

    private TagList ComponentTags(string component, string? operation, bool success)
    {
        var tags = new TagList { { "app_id", _appId }, { "component", component }, { "namespace", _namespace } };
        if (operation is not null)
        {
            tags.Add("operation", operation);
        }
        tags.Add("success", success ? "true" : "false");
        return tags;
    }

    /// <summary>Whether anything listens to the API server's metrics (so that the middleware can skip its clock).</summary>
    public bool ServerEnabled => _http.Enabled || _grpc.Enabled;

    /// <summary>
    /// One call to the sidecar's APIs once answered: daprd's HTTP server views (method and status) or its gRPC server
    /// views (the full method name and the status by its canonical name, <c>OK</c>, <c>NOT_FOUND</c>...).
    /// </summary>
    public void ServerRequest(HttpContext context, TimeSpan elapsed)
    {
        if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true)
        {
            // A normal answer carries grpc-status in its trailers; a trailers-only one (an early error) in its headers.
            var trailers = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseTrailersFeature>()?.Trailers;
            var code = trailers is not null && trailers.TryGetValue("grpc-status", out var trailer) ? trailer.ToString() : context.Response.Headers["grpc-status"].ToString();
            _grpc.Record(new TagList { { "app_id", _appId }, { "grpc_server_method", context.Request.Path.Value?.TrimStart('/') ?? "" }, { "grpc_server_status", GrpcStatusName(code) } }, elapsed);
            return;
        }
        _http.Record(new TagList { { "app_id", _appId }, { "method", context.Request.Method }, { "status", context.Response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture) } }, elapsed);
    }

    private static readonly string[] GrpcStatusNames =
    [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ];

    // No grpc-status at all means the call never reached gRPC's handling (a connection cut short): counted as UNKNOWN.
    private static string GrpcStatusName(string code) =>
        int.TryParse(code, out var n) && n >= 0 && n < GrpcStatusNames.Length ? GrpcStatusNames[n] : "UNKNOWN";

    /// <summary>Whether anything listens to the invocation metrics (so that callers can skip working out their labels).</summary>
    public bool InvocationEnabled => _invokeRequestsSent.Enabled || _invokeRequestsReceived.Enabled || _invokeResponsesSent.Enabled || _invokeResponsesReceived.Enabled;

    /// <summary>The caller's side of a service invocation, as it sends the request to <paramref name="callee"/>.</summary>
    public void InvocationRequestSent(string callee, string method) =>
        _invokeRequestsSent.Add(1, new TagList { { "app_id", _appId }, { "dst_app_id", callee }, { "method", method } });

    /// <summary>The caller's side once the answer is back: daprd labels the callee <c>src_app_id</c> here (the answer's source).</summary>
    public void InvocationResponseReceived(string callee, string method, int status, TimeSpan elapsed) =>
        _invokeResponsesReceived.Record(new TagList { { "app_id", _appId }, { "src_app_id", callee }, { "method", method }, { "status", status.ToString(System.Globalization.CultureInfo.InvariantCulture) } }, elapsed);

    /// <summary>The callee's side, as a request from <paramref name="caller"/> reaches this sidecar for its app.</summary>
    public void InvocationRequestReceived(string caller, string method) =>
        _invokeRequestsReceived.Add(1, new TagList { { "app_id", _appId }, { "src_app_id", caller }, { "method", method } });

    /// <summary>The callee's side once its app has answered (<paramref name="status"/>: the HTTP status, or a gRPC app's code).</summary>
    public void InvocationResponseSent(string caller, string method, int status) =>
        _invokeResponsesSent.Add(1, new TagList { { "app_id", _appId }, { "dst_app_id", caller }, { "method", method }, { "status", status.ToString(System.Globalization.CultureInfo.InvariantCulture) } });

    /// <summary>A publish to the broker (<c>success</c>: the broker took it).</summary>
    public void PubSubEgress(string component, string topic, bool success, TimeSpan elapsed) =>
        _egress.Record(new TagList { { "app_id", _appId }, { "component", component }, { "namespace", _namespace }, { "success", success ? "true" : "false" }, { "topic", topic } }, elapsed);

    /// <summary>A message delivered to the app, with what came of it: daprd's <c>success</c>, <c>retry</c> or <c>drop</c>.</summary>
    public void PubSubIngress(string component, string processStatus, string topic, TimeSpan elapsed) =>
        _ingress.Record(new TagList { { "app_id", _appId }, { "component", component }, { "namespace", _namespace }, { "process_status", processStatus }, { "topic", topic } }, elapsed);
}
