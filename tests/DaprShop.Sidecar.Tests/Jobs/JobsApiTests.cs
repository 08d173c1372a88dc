using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Dapr.AppCallback.Autogen.Grpc.v1;
using Dapr.Client.Autogen.Grpc.v1;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace DaprShop.Sidecar.Tests.Jobs;

/// <summary>
/// Dapr's jobs API against a real sidecar: scheduled over HTTP (stable and alpha routes) and over the gRPC API (the
/// raw client of Dapr.Protos: the SDK's Dapr.Jobs package is not on this project's package mirror), delivered to an
/// HTTP app at <c>POST /job/{name}</c> and to a gRPC app through <c>OnJobEventAlpha1</c>.
/// </summary>
public sealed class JobsApiTests
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpClient http, HttpMethod method, string path, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : Json(body) };
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private static IEnumerable<ReceivedRequest> Triggers(TestApp app, string name) => app.RequestsTo("/job/" + name).Where(r => r.Method == "POST");

    private static async Task<(TestApp App, SidecarProcess Sidecar)> StartAsync(TestMesh mesh, string appId, Func<HttpContext, IResult>? answer = null)
    {
        var app = await TestApp.StartAsync(a => a.MapPost("/job/{name}", (HttpContext context) => answer?.Invoke(context) ?? Results.Ok()));
        using var resources = new ResourcesFolder();
        var sidecar = await SidecarProcess.StartAsync(new() { AppId = appId, ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        return (app, sidecar);
    }

    [Fact]
    public async Task A_job_scheduled_over_http_reaches_the_app_at_its_due_time_with_its_data_and_is_then_gone()
    {
        using var mesh = new TestMesh();
        var (app, sidecar) = await StartAsync(mesh, "jobs-http");
        await using var _ = app;
        await using var __ = sidecar;
        using var http = sidecar.CreateHttpClient();

        var scheduled = DateTimeOffset.UtcNow;
        (await SendAsync(http, HttpMethod.Post, "/v1.0/jobs/restock", """{"dueTime": "2s", "data": {"sku": "A-1", "qty": 2}}""")).Status.Should().Be(HttpStatusCode.NoContent);

        var (status, job) = await SendAsync(http, HttpMethod.Get, "/v1.0-alpha1/jobs/restock");
        status.Should().Be(HttpStatusCode.OK);
        JsonNode.DeepEquals(job, JsonNode.Parse("""
            {"name": "restock", "dueTime": "2s",
             "data": {"@type": "type.googleapis.com/google.protobuf.Value", "value": {"sku": "A-1", "qty": 2}},
             "failurePolicy": {"constant": {"interval": "1s", "maxRetries": 3}}}
            """)).Should().BeTrue($"the job reads back as protobuf JSON with the Scheduler's default failure policy: {job?.ToJsonString()}");

        await Eventually.HoldsAsync(() => Triggers(app, "restock").Any(), TimeSpan.FromSeconds(10), "the job triggers");
        var trigger = Triggers(app, "restock").Single();
        (DateTimeOffset.UtcNow - scheduled).Should().BeGreaterThan(TimeSpan.FromSeconds(1.9), "a job never triggers before its due time");
        trigger.ContentType.Should().StartWith("application/json");
        JsonNode.DeepEquals(JsonNode.Parse(trigger.BodyText), JsonNode.Parse("""{"sku": "A-1", "qty": 2}""")).Should().BeTrue("the app gets the data as it was posted");

        await Eventually.HoldsAsync(async () => (await SendAsync(http, HttpMethod.Get, "/v1.0/jobs/restock")).Status == HttpStatusCode.InternalServerError, TimeSpan.FromSeconds(5), "a one-shot job is deleted once it has triggered");
        var (missing, error) = await SendAsync(http, HttpMethod.Get, "/v1.0/jobs/restock");
        error!["errorCode"]!.GetValue<string>().Should().Be("DAPR_SCHEDULER_GET_JOB");
        error["message"]!.GetValue<string>().Should().Be("failed to get job due to: rpc error: code = NotFound desc = job not found: restock");
        await Task.Delay(1500);
        Triggers(app, "restock").Should().ContainSingle("a delivered one-shot job triggers once");
    }

    [Fact]
    public async Task A_repeating_job_triggers_as_often_as_its_repeats_say_and_then_stops()
    {
        using var mesh = new TestMesh();
        var (app, sidecar) = await StartAsync(mesh, "jobs-repeat");
        await using var _ = app;
        await using var __ = sidecar;
        using var http = sidecar.CreateHttpClient();

        (await SendAsync(http, HttpMethod.Post, "/v1.0/jobs/tick", """{"schedule": "@every 300ms", "repeats": 3}""")).Status.Should().Be(HttpStatusCode.NoContent);

        await Eventually.HoldsAsync(() => Triggers(app, "tick").Count() >= 3, TimeSpan.FromSeconds(10), "three triggers arrive");
        await Task.Delay(1200);
        Triggers(app, "tick").Should().HaveCount(3, "repeats counts the triggers in all");
        Triggers(app, "tick").Should().AllSatisfy(t => t.Body.Should().BeEmpty("a job without data sends an empty body"));
        (await SendAsync(http, HttpMethod.Get, "/v1.0/jobs/tick")).Status.Should().Be(HttpStatusCode.InternalServerError, "the job is gone once its repeats are used up");
    }

    [Fact]
    public async Task A_failed_trigger_is_retried_as_its_failure_policy_says_and_a_404_settles_it()
    {
        using var mesh = new TestMesh();
        var (app, sidecar) = await StartAsync(mesh, "jobs-failing", context =>
            context.Request.RouteValues["name"] as string == "gone" ? Results.NotFound() : Results.StatusCode(500));
        await using var _ = app;
        await using var __ = sidecar;
        using var http = sidecar.CreateHttpClient();

        // The interval is a protobuf Duration in JSON: seconds with an "s" ("0.2s", not "200ms").
        (await SendAsync(http, HttpMethod.Post, "/v1.0/jobs/constant", """{"dueTime": "0s", "failurePolicy": {"constant": {"interval": "0.2s", "maxRetries": 2}}}""")).Status.Should().Be(HttpStatusCode.NoContent);
        (await SendAsync(http, HttpMethod.Post, "/v1.0/jobs/dropped", """{"dueTime": "0s", "failure_policy": {"drop": {}}}""")).Status.Should().Be(HttpStatusCode.NoContent);
        (await SendAsync(http, HttpMethod.Post, "/v1.0/jobs/default", """{"dueTime": "0s"}""")).Status.Should().Be(HttpStatusCode.NoContent);
        (await SendAsync(http, HttpMethod.Post, "/v1.0/jobs/gone", """{"dueTime": "0s"}""")).Status.Should().Be(HttpStatusCode.NoContent);

        await Eventually.HoldsAsync(() => Triggers(app, "constant").Count() >= 3 && Triggers(app, "default").Count() >= 4, TimeSpan.FromSeconds(15),
            $"the retries arrive: two after the first attempt, three by default (constant {Triggers(app, "constant").Count()}, default {Triggers(app, "default").Count()}, dropped {Triggers(app, "dropped").Count()}, gone {Triggers(app, "gone").Count()}; sidecar: {sidecar.Output})");
        await Task.Delay(1500);
        Triggers(app, "constant").Should().HaveCount(3, "maxRetries 2 means three deliveries in all");
        Triggers(app, "default").Should().HaveCount(4, "the Scheduler's default policy retries three times, a second apart");
        Triggers(app, "dropped").Should().ContainSingle("a drop policy does not retry");
        Triggers(app, "gone").Should().ContainSingle("a 404 settles the trigger, as daprd counts it");
        foreach (var name in new[] { "constant", "dropped", "default", "gone" })
        {
            (await SendAsync(http, HttpMethod.Get, "/v1.0/jobs/" + name)).Status.Should().Be(HttpStatusCode.InternalServerError, $"the one-shot job {name} is done, delivered or not");
        }
    }

    [Theory]
    [InlineData("", HttpStatusCode.BadRequest, "DAPR_SCHEDULER_SCHEDULE_EMPTY", "Schedule is empty")]
    [InlineData("{}", HttpStatusCode.BadRequest, "DAPR_SCHEDULER_SCHEDULE_EMPTY", "Schedule is empty")]
    [InlineData("""{"name": "other", "dueTime": "1h"}""", HttpStatusCode.BadRequest, "DAPR_SCHEDULER_JOB_NAME", "Set the job name in the url only")]
    [InlineData("""{"dueTime": "1h",""", HttpStatusCode.BadRequest, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body")]
    [InlineData("""{"dueTime": "1h", "repeats": -1}""", HttpStatusCode.BadRequest, "ERR_MALFORMED_REQUEST", "failed deserializing HTTP body")]
    [InlineData("""{"schedule": "61 * * * * *"}""", HttpStatusCode.InternalServerError, "DAPR_SCHEDULER_SCHEDULE_JOB", "failed to schedule job due to: rpc error: code = Unknown desc = job failed validation: failed to parse schedule")]
    [InlineData("""{"dueTime": "tomorrow"}""", HttpStatusCode.InternalServerError, "DAPR_SCHEDULER_SCHEDULE_JOB", "job failed validation: due time format not recognized")]
    [InlineData("""{"schedule": "@every 1s", "ttl": "soon"}""", HttpStatusCode.InternalServerError, "DAPR_SCHEDULER_SCHEDULE_JOB", "job failed validation: ttl format not recognized")]
    [InlineData("""{"schedule": "@every 1s", "dueTime": "1h", "ttl": "2025-01-01T00:00:00Z"}""", HttpStatusCode.InternalServerError, "DAPR_SCHEDULER_SCHEDULE_JOB", "job failed validation: ttl must be greater than due time")]
    [InlineData("""{"schedule": "@every 1s", "repeats": 0}""", HttpStatusCode.InternalServerError, "DAPR_SCHEDULER_SCHEDULE_JOB", "job failed validation: defined repeats must be greater than 0")]
    [InlineData("""{"dueTime": "1h", "repeats": 2}""", HttpStatusCode.InternalServerError, "DAPR_SCHEDULER_SCHEDULE_JOB", "job failed validation: job must have a schedule to repeat")]
    public async Task A_job_daprd_would_refuse_is_refused_with_its_error(string body, HttpStatusCode status, string errorCode, string message)
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder();
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "jobs-bad", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var http = sidecar.CreateHttpClient();

        var (actual, error) = await SendAsync(http, HttpMethod.Post, "/v1.0/jobs/bad", body);

        actual.Should().Be(status);
        error!["errorCode"]!.GetValue<string>().Should().Be(errorCode);
        error["message"]!.GetValue<string>().Should().Contain(message);
        (await SendAsync(http, HttpMethod.Get, "/v1.0/jobs/bad")).Status.Should().Be(HttpStatusCode.InternalServerError, "nothing was scheduled");
    }

    [Fact]
    public async Task A_name_taken_is_refused_unless_the_job_overwrites_it_and_deleting_a_missing_job_succeeds()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder();
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "jobs-names", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var http = sidecar.CreateHttpClient();
        await SendAsync(http, HttpMethod.Post, "/v1.0/jobs/nightly", """{"schedule": "0 0 2 * * *", "data": "first"}""");

        var (taken, error) = await SendAsync(http, HttpMethod.Post, "/v1.0/jobs/nightly", """{"schedule": "0 0 3 * * *", "data": "second"}""");
        taken.Should().Be(HttpStatusCode.InternalServerError);
        error!["errorCode"]!.GetValue<string>().Should().Be("DAPR_SCHEDULER_SCHEDULE_JOB");
        error["message"]!.GetValue<string>().Should().Be("failed to schedule job due to: rpc error: code = AlreadyExists desc = job already exists: 'app||default||jobs-names||nightly'");
        (await SendAsync(http, HttpMethod.Get, "/v1.0/jobs/nightly")).Body!["schedule"]!.GetValue<string>().Should().Be("0 0 2 * * *");

        (await SendAsync(http, HttpMethod.Post, "/v1.0/jobs/nightly", """{"schedule": "0 0 3 * * *", "data": "second", "overwrite": true}""")).Status.Should().Be(HttpStatusCode.NoContent);
        var replaced = (await SendAsync(http, HttpMethod.Get, "/v1.0/jobs/nightly")).Body!;
        replaced["schedule"]!.GetValue<string>().Should().Be("0 0 3 * * *");
        replaced["data"]!["value"]!.GetValue<string>().Should().Be("second");

        (await SendAsync(http, HttpMethod.Delete, "/v1.0/jobs/nightly")).Status.Should().Be(HttpStatusCode.NoContent);
        (await SendAsync(http, HttpMethod.Delete, "/v1.0/jobs/nightly")).Status.Should().Be(HttpStatusCode.NoContent, "deleting a job that is not there succeeds, as in daprd");
        (await SendAsync(http, HttpMethod.Get, "/v1.0/jobs/nightly")).Status.Should().Be(HttpStatusCode.InternalServerError);
    }

    [Fact]
    public async Task Over_grpc_an_app_lists_gets_and_deletes_by_prefix_only_its_own_jobs()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder();
        await using var reports = await SidecarProcess.StartAsync(new() { AppId = "reports", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        await using var billing = await SidecarProcess.StartAsync(new() { AppId = "billing", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var reportsChannel = GrpcChannel.ForAddress($"http://127.0.0.1:{reports.GrpcPort}");
        using var billingChannel = GrpcChannel.ForAddress($"http://127.0.0.1:{billing.GrpcPort}");
        var ofReports = new Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient(reportsChannel);
        var ofBilling = new Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient(billingChannel);

        await ofReports.ScheduleJobAsync(new ScheduleJobRequest { Job = new Job { Name = "report-daily", Schedule = "@daily", Data = Any.Pack(new StringValue { Value = "pdf" }) } });
#pragma warning disable CS0612 // the Alpha1 methods are obsolete in 1.18, and older SDKs still call them
        await ofReports.ScheduleJobAlpha1Async(new ScheduleJobRequest { Job = new Job { Name = "report-weekly", Schedule = "@weekly", Ttl = "720h" } });
        await ofReports.ScheduleJobAsync(new ScheduleJobRequest { Job = new Job { Name = "cleanup", DueTime = "1h", FailurePolicy = new JobFailurePolicy { Drop = new JobFailurePolicyDrop() } } });
        await ofBilling.ScheduleJobAsync(new ScheduleJobRequest { Job = new Job { Name = "report-daily", Schedule = "@daily" } });

        (await ofReports.ListJobsAsync(new ListJobsRequest())).Jobs.Select(j => j.Name).Should().BeEquivalentTo(["cleanup", "report-daily", "report-weekly"]);
        var daily = (await ofReports.GetJobAsync(new GetJobRequest { Name = "report-daily" })).Job;
        daily.Schedule.Should().Be("@daily");
        daily.Data.Unpack<StringValue>().Value.Should().Be("pdf", "the job's data comes back as it was scheduled");
        (await ofReports.GetJobAlpha1Async(new GetJobRequest { Name = "cleanup" })).Job.FailurePolicy.Drop.Should().NotBeNull();
#pragma warning restore CS0612

        await ofReports.DeleteJobsByPrefixAsync(new DeleteJobsByPrefixRequest { NamePrefix = "report-" });

#pragma warning disable CS0612
        (await ofReports.ListJobsAlpha1Async(new ListJobsRequestAlpha1())).Jobs.Select(j => j.Name).Should().Equal("cleanup");
#pragma warning restore CS0612
        (await ofBilling.ListJobsAsync(new ListJobsRequest())).Jobs.Select(j => j.Name).Should().Equal(["report-daily"], "jobs belong to the app id that scheduled them");
        var missing = await FluentActions.Awaiting(async () => await ofReports.GetJobAsync(new GetJobRequest { Name = "report-daily" })).Should().ThrowAsync<RpcException>();
        missing.Which.StatusCode.Should().Be(StatusCode.Internal);
        var empty = await FluentActions.Awaiting(async () => await ofReports.ScheduleJobAsync(new ScheduleJobRequest { Job = new Job { Name = "x" } })).Should().ThrowAsync<RpcException>();
        empty.Which.StatusCode.Should().Be(StatusCode.InvalidArgument);
        empty.Which.Status.Detail.Should().Be("Schedule is empty");
    }

    [Fact]
    public async Task A_job_outlives_the_sidecar_that_scheduled_it_and_triggers_once_on_the_next_one()
    {
        using var mesh = new TestMesh();
        await using var app = await TestApp.StartAsync(a => a.MapPost("/job/{name}", () => Results.Ok()));
        using var resources = new ResourcesFolder();
        SidecarProcess.Options Options() => new() { AppId = "jobs-durable", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port };
        await using (var first = await SidecarProcess.StartAsync(Options()))
        {
            using var http = first.CreateHttpClient();
            (await SendAsync(http, HttpMethod.Post, "/v1.0/jobs/later", """{"dueTime": "3s", "data": 42}""")).Status.Should().Be(HttpStatusCode.NoContent);
        }
        Triggers(app, "later").Should().BeEmpty("the sidecar stopped before the job was due");

        await using var second = await SidecarProcess.StartAsync(Options());

        await Eventually.HoldsAsync(() => Triggers(app, "later").Any(), TimeSpan.FromSeconds(10), "the job triggers through the next sidecar of the app");
        await Task.Delay(1000);
        Triggers(app, "later").Should().ContainSingle().Which.BodyText.Should().Be("42");
    }

    [Fact]
    public async Task Each_trigger_goes_to_one_replica_of_the_app()
    {
        using var mesh = new TestMesh();
        var (app1, sidecar1) = await StartAsync(mesh, "jobs-replicas");
        var (app2, sidecar2) = await StartAsync(mesh, "jobs-replicas");
        await using var _ = app1;
        await using var __ = sidecar1;
        await using var ___ = app2;
        await using var ____ = sidecar2;
        using var http = sidecar1.CreateHttpClient();

        await SendAsync(http, HttpMethod.Post, "/v1.0/jobs/shared", """{"schedule": "@every 200ms", "repeats": 8}""");

        await Eventually.HoldsAsync(() => Triggers(app1, "shared").Count() + Triggers(app2, "shared").Count() >= 8, TimeSpan.FromSeconds(15), "eight triggers arrive");
        await Task.Delay(1500);
        (Triggers(app1, "shared").Count() + Triggers(app2, "shared").Count()).Should().Be(8, "no trigger reaches both replicas");
    }

    /// <summary>A gRPC app that serves <c>OnJobEventAlpha1</c>.</summary>
    private sealed class JobCallbacks(ConcurrentQueue<JobEventRequest> seen) : AppCallbackAlpha.AppCallbackAlphaBase
    {
        public override Task<JobEventResponse> OnJobEventAlpha1(JobEventRequest request, ServerCallContext context)
        {
            seen.Enqueue(request);
            return Task.FromResult(new JobEventResponse());
        }
    }

    [Fact]
    public async Task A_grpc_app_gets_its_jobs_through_on_job_event_with_the_data_as_scheduled()
    {
        var seen = new ConcurrentQueue<JobEventRequest>();
        var (app, port) = await GrpcTestApp.StartAsync(s => s.AddSingleton(seen), a => a.MapGrpcService<JobCallbacks>());
        await using var _ = app;
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder();
        await using var sidecar = await SidecarProcess.StartAsync(new()
        {
            AppId = "jobs-grpc", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = port, ExtraArgs = ["--app-protocol", "grpc"],
        });
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{sidecar.GrpcPort}");

        await new Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient(channel).ScheduleJobAsync(new ScheduleJobRequest
        {
            Job = new Job { Name = "send-invoice", DueTime = "500ms", Data = Any.Pack(new StringValue { Value = "invoice 7" }) },
        });

        await Eventually.HoldsAsync(() => !seen.IsEmpty, TimeSpan.FromSeconds(10), "the gRPC app gets the trigger");
        var trigger = seen.Single();
        trigger.Name.Should().Be("send-invoice");
        trigger.Method.Should().Be("job/send-invoice");
        trigger.ContentType.Should().Be("type.googleapis.com/google.protobuf.StringValue");
        trigger.HttpExtension.Verb.Should().Be(HTTPExtension.Types.Verb.Post);
        trigger.Data.Unpack<StringValue>().Value.Should().Be("invoice 7");
    }
}
