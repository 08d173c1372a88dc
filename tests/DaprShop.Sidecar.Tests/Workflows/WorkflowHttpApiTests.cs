using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapr.Client.Autogen.Grpc.v1;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Google.Protobuf;
using Grpc.Net.Client;

namespace DaprShop.Sidecar.Tests.Workflows;

/// <summary>
/// Dapr's own workflow API — HTTP <c>/v1.0*/workflows/dapr/...</c> and the gRPC <c>*WorkflowBeta1</c> calls — driving
/// the official Dapr.Workflow worker, as the Dapr quickstarts and the non-.NET SDKs do.
/// </summary>
public sealed class WorkflowHttpApiTests : IAsyncLifetime
{
    private WorkflowHost _host = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _host = await WorkflowHost.StartAsync();
        _http = _host.Sidecar.CreateHttpClient();
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<JsonElement> GetAsync(string id, string version = "v1.0")
    {
        using var response = await _http.GetAsync($"/{version}/workflows/dapr/{id}");
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private async Task<JsonElement> WaitForStatusAsync(string id, string status)
    {
        JsonElement state = default;
        await Eventually.HoldsAsync(async () => (state = await GetAsync(id)).GetProperty("runtimeStatus").GetString() == status, TimeSpan.FromSeconds(15), $"{id} becomes {status}");
        return state;
    }

    [Fact]
    public async Task A_workflow_started_over_http_takes_an_event_and_reads_back_as_daprd_describes_it()
    {
        using var started = await _http.PostAsync("/v1.0/workflows/dapr/EventWorkflow/start?instanceID=http-1", Json("\"hello\""));

        started.StatusCode.Should().Be(HttpStatusCode.Accepted);
        (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("instanceID").GetString().Should().Be("http-1");
        var running = await WaitForStatusAsync("http-1", "RUNNING");
        running.GetProperty("instanceID").GetString().Should().Be("http-1");
        running.GetProperty("workflowName").GetString().Should().Be("EventWorkflow");
        running.GetProperty("properties").GetProperty("dapr.workflow.input").GetString().Should().Be("\"hello\"", "the raw body is the input");
        DateTimeOffset.Parse(running.GetProperty("createdAt").GetString()!, System.Globalization.CultureInfo.InvariantCulture).Should().BeCloseTo(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1));

        (await _http.PostAsync("/v1.0-beta1/workflows/dapr/http-1/raiseEvent/approval", Json("\"yes\""))).StatusCode.Should().Be(HttpStatusCode.Accepted);

        var done = await WaitForStatusAsync("http-1", "COMPLETED");
        done.GetProperty("properties").GetProperty("dapr.workflow.output").GetString().Should().Be("\"hello:yes\"");
        (await GetAsync("http-1", "v1.0-alpha1")).GetProperty("runtimeStatus").GetString().Should().Be("COMPLETED", "every API version serves the same instances");
    }

    [Fact]
    public async Task Pause_resume_terminate_and_purge_over_http_answer_202_and_a_purged_instance_is_404()
    {
        (await _http.PostAsync("/v1.0/workflows/dapr/EventWorkflow/start?instanceID=http-2", Json("\"x\""))).StatusCode.Should().Be(HttpStatusCode.Accepted);
        await WaitForStatusAsync("http-2", "RUNNING");

        (await _http.PostAsync("/v1.0/workflows/dapr/http-2/pause", null)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        await WaitForStatusAsync("http-2", "SUSPENDED");
        (await _http.PostAsync("/v1.0/workflows/dapr/http-2/resume", null)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        await WaitForStatusAsync("http-2", "RUNNING");

        using var runningPurge = await _http.PostAsync("/v1.0/workflows/dapr/http-2/purge", null);
        runningPurge.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await runningPurge.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errorCode").GetString().Should().Be("ERR_PURGE_WORKFLOW");

        (await _http.PostAsync("/v1.0/workflows/dapr/http-2/terminate", null)).StatusCode.Should().Be(HttpStatusCode.Accepted);
        await WaitForStatusAsync("http-2", "TERMINATED");
        (await _http.PostAsync("/v1.0/workflows/dapr/http-2/purge", null)).StatusCode.Should().Be(HttpStatusCode.Accepted);

        using var gone = await _http.GetAsync("/v1.0/workflows/dapr/http-2");
        gone.StatusCode.Should().Be(HttpStatusCode.NotFound);
        var error = await gone.Content.ReadFromJsonAsync<JsonElement>();
        error.GetProperty("errorCode").GetString().Should().Be("ERR_INSTANCE_ID_NOT_FOUND");
        error.GetProperty("message").GetString().Should().Be("unable to find workflow with the provided instance ID: http-2");
    }

    [Theory]
    [InlineData("/v1.0/workflows/dapr/EventWorkflow/start?instanceID=a$b", 400, "ERR_INSTANCE_ID_INVALID")]
    [InlineData("/v1.0/workflows/dapr/EventWorkflow/start?instanceID=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 400, "ERR_INSTANCE_ID_TOO_LONG")]
    [InlineData("/v1.0/workflows/dapr/nobody/raiseEvent/approval", 500, "ERR_RAISE_EVENT_WORKFLOW")]
    [InlineData("/v1.0/workflows/dapr/nobody/terminate", 404, "ERR_INSTANCE_ID_NOT_FOUND")]
    [InlineData("/v1.0/workflows/dapr/nobody/purge", 404, "ERR_INSTANCE_ID_NOT_FOUND")]
    [InlineData("/v1.0/workflows/dapr/nobody/pause", 500, "ERR_PAUSE_WORKFLOW")]
    public async Task Bad_ids_and_unknown_instances_get_daprds_errors(string url, int status, string errorCode)
    {
        using var response = await _http.PostAsync(url, Json("\"x\""));

        ((int)response.StatusCode).Should().Be(status);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errorCode").GetString().Should().Be(errorCode);
    }

    [Fact]
    public async Task The_grpc_workflow_calls_start_describe_and_report_failures()
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_host.Sidecar.GrpcPort}");
        var dapr = new Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient(channel);

        var started = await dapr.StartWorkflowBeta1Async(new StartWorkflowRequest
        {
            WorkflowComponent = "dapr", WorkflowName = "FailingWorkflow", InstanceId = "grpc-1", Input = ByteString.CopyFromUtf8("\"kaput\""),
        });
        started.InstanceId.Should().Be("grpc-1");

        GetWorkflowResponse state = null!;
        await Eventually.HoldsAsync(async () => (state = await dapr.GetWorkflowBeta1Async(new GetWorkflowRequest { InstanceId = "grpc-1", WorkflowComponent = "dapr" })).RuntimeStatus == "FAILED",
            TimeSpan.FromSeconds(15), "the workflow fails");
        state.WorkflowName.Should().Be("FailingWorkflow");
        state.Properties["dapr.workflow.failure.error_message"].Should().Contain("boom: kaput");
        state.Properties.Should().ContainKey("dapr.workflow.failure.error_type");

#pragma warning disable CS0612 // the Alpha1 calls are obsolete in the proto, and still served by daprd 1.18
        var unknown = await dapr.GetWorkflowAlpha1Async(new GetWorkflowRequest { InstanceId = "nobody", WorkflowComponent = "dapr" });
#pragma warning restore CS0612
        unknown.InstanceId.Should().Be("nobody", "daprd answers an unknown id over gRPC with the id alone, not an error");
        unknown.RuntimeStatus.Should().BeEmpty();

        await dapr.PurgeWorkflowBeta1Async(new PurgeWorkflowRequest { InstanceId = "grpc-1", WorkflowComponent = "dapr" });
        (await dapr.GetWorkflowBeta1Async(new GetWorkflowRequest { InstanceId = "grpc-1" })).RuntimeStatus.Should().BeEmpty("purged");
    }

    [Fact]
    public async Task The_metadata_counts_the_connected_workflow_workers_as_daprd_does()
    {
        await Eventually.HoldsAsync(async () =>
        {
            var metadata = await _http.GetFromJsonAsync<JsonElement>("/v1.0/metadata");
            return metadata.GetProperty("workflows").TryGetProperty("connectedWorkers", out var n) && n.GetInt32() == 1;
        }, TimeSpan.FromSeconds(15), "the test app's worker is connected");

        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_host.Sidecar.GrpcPort}");
        (await new Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient(channel).GetMetadataAsync(new GetMetadataRequest())).Workflows.ConnectedWorkers.Should().Be(1);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _host.DisposeAsync();
    }
}
