using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapr.AppCallback.Autogen.Grpc.v1;
using Dapr.Client;
using Dapr.Client.Autogen.Grpc.v1;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace DaprShop.Sidecar.Tests.Hosting;

/// <summary>
/// <c>--app-protocol grpc</c>: the app serves Dapr's AppCallback services (as a Go, Java or .NET gRPC app does) and
/// the sidecar reaches it only through them — invocation, subscriptions and deliveries, input bindings, health.
/// </summary>
public sealed class GrpcAppTests
{
    /// <summary>What the app saw, and how it answers.</summary>
    private sealed class Seen
    {
        public ConcurrentQueue<InvokeRequest> Invocations { get; } = new();
        public ConcurrentQueue<TopicEventRequest> Events { get; } = new();
        public ConcurrentQueue<BindingEventRequest> Bindings { get; } = new();
        public ConcurrentQueue<TopicEventBulkRequest> Batches { get; } = new();
        public ConcurrentQueue<string> Tokens { get; } = new();
        public int HealthChecks;
        public int Refusals;
    }

    private sealed class Callbacks(Seen seen) : AppCallback.AppCallbackBase
    {
        public override Task<InvokeResponse> OnInvoke(InvokeRequest request, ServerCallContext context)
        {
            seen.Invocations.Enqueue(request);
            seen.Tokens.Enqueue(context.RequestHeaders.GetValue("dapr-api-token") ?? "");
            if (request.Method == "missing")
            {
                throw new RpcException(new Status(StatusCode.NotFound, "no such thing"));
            }
            if (request.Method == "invalid")
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, "never valid"));
            }
            if (request.Method == "contended" && seen.Invocations.Count(i => i.Method == "contended") <= 2)
            {
                throw new RpcException(new Status(StatusCode.Aborted, "try again"));
            }
            var echo = $"{request.HttpExtension.Verb} {request.Method}?{request.HttpExtension.Querystring} {request.ContentType} {request.Data.Value.ToStringUtf8()}";
            return Task.FromResult(new InvokeResponse { ContentType = "text/plain", Data = new Any { Value = ByteString.CopyFromUtf8(echo) } });
        }

        public override Task<ListTopicSubscriptionsResponse> ListTopicSubscriptions(Empty request, ServerCallContext context) => Task.FromResult(new ListTopicSubscriptionsResponse
        {
            Subscriptions =
            {
                new TopicSubscription
                {
                    PubsubName = "pubsub", Topic = "orders", DeadLetterTopic = "orders-dead",
                    Routes = new TopicRoutes { Rules = { new TopicRule { Match = "event.data.kind == \"refund\"", Path = "refunds" } }, Default = "orders" },
                },
                new TopicSubscription { PubsubName = "pubsub", Topic = "orders-dead" },
                new TopicSubscription
                {
                    PubsubName = "pubsub", Topic = "metrics",
                    BulkSubscribe = new BulkSubscribeConfig { Enabled = true, MaxMessagesCount = 10, MaxAwaitDurationMs = 200 },
                },
            },
        });

        public override Task<TopicEventResponse> OnTopicEvent(TopicEventRequest request, ServerCallContext context)
        {
            seen.Events.Enqueue(request);
            var kind = JsonDocument.Parse(request.Data.ToByteArray()).RootElement.TryGetProperty("kind", out var k) ? k.GetString() : null;
            // A "flaky" order is refused once, a "poison" one dropped.
            var status = kind == "poison" ? TopicEventResponse.Types.TopicEventResponseStatus.Drop
                : kind == "flaky" && Interlocked.Increment(ref seen.Refusals) == 1 ? TopicEventResponse.Types.TopicEventResponseStatus.Retry
                : TopicEventResponse.Types.TopicEventResponseStatus.Success;
            return Task.FromResult(new TopicEventResponse { Status = status });
        }

        public override Task<TopicEventBulkResponse> OnBulkTopicEvent(TopicEventBulkRequest request, ServerCallContext context)
        {
            seen.Batches.Enqueue(request);
            var response = new TopicEventBulkResponse();
            response.Statuses.AddRange(request.Entries.Select(e => new TopicEventBulkResponseEntry { EntryId = e.EntryId, Status = TopicEventResponse.Types.TopicEventResponseStatus.Success }));
            return Task.FromResult(response);
        }

        public override Task<ListInputBindingsResponse> ListInputBindings(Empty request, ServerCallContext context) =>
            Task.FromResult(new ListInputBindingsResponse { Bindings = { "tick" } });

        public override Task<BindingEventResponse> OnBindingEvent(BindingEventRequest request, ServerCallContext context)
        {
            seen.Bindings.Enqueue(request);
            return Task.FromResult(new BindingEventResponse());
        }
    }

    private sealed class Health(Seen seen) : AppCallbackHealthCheck.AppCallbackHealthCheckBase
    {
        public override Task<HealthCheckResponse> HealthCheck(Empty request, ServerCallContext context)
        {
            Interlocked.Increment(ref seen.HealthChecks);
            return Task.FromResult(new HealthCheckResponse());
        }
    }

    private static Task<(WebApplication App, int Port)> StartGrpcAppAsync(Seen seen) =>
        GrpcTestApp.StartAsync(s => s.AddSingleton(seen), app =>
        {
            app.MapGrpcService<Callbacks>();
            app.MapGrpcService<Health>();
        });

    private sealed record Order(int Number, string Kind);

    [Fact]
    public async Task Invocation_reaches_a_grpc_app_through_on_invoke_with_verb_query_body_and_the_app_token()
    {
        var seen = new Seen();
        var (app, port) = await StartGrpcAppAsync(seen);
        await using var _ = app;
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder();
        await using var sidecar = await SidecarProcess.StartAsync(new()
        {
            AppId = "grpc-app", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = port,
            ExtraArgs = ["--app-protocol", "grpc"], Environment = new Dictionary<string, string> { ["APP_API_TOKEN"] = "app-secret" },
        });
        using var http = sidecar.CreateHttpClient();

        using var viaHttp = await http.PutAsync("/v1.0/invoke/grpc-app/method/orders/7?expand=lines", new StringContent("{\"n\":7}", Encoding.UTF8, "application/json"));
        using var invoker = DaprClient.CreateInvokeHttpClient("grpc-app", sidecar.HttpEndpoint.ToString());
        using var sdkAnswer = await invoker.PostAsync("/echo", JsonContent.Create(new Order(1, "sdk")));
        var viaSdk = await sdkAnswer.Content.ReadAsStringAsync();
        using var missing = await http.GetAsync("/v1.0/invoke/grpc-app/method/missing");

        viaHttp.StatusCode.Should().Be(HttpStatusCode.OK);
        (await viaHttp.Content.ReadAsStringAsync()).Should().Be("Put orders/7?expand=lines application/json; charset=utf-8 {\"n\":7}");
        viaSdk.Should().StartWith("Post echo? application/json");
        missing.StatusCode.Should().Be(HttpStatusCode.NotFound, "the app's gRPC NotFound comes back as HTTP 404");
        seen.Tokens.Should().OnlyContain(t => t == "app-secret", "APP_API_TOKEN goes to a gRPC app as metadata");
        using var metadata = JsonDocument.Parse(await http.GetStringAsync("/v1.0/metadata"));
        metadata.RootElement.GetProperty("appConnectionProperties").GetProperty("protocol").GetString().Should().Be("grpc");
    }

    [Fact]
    public async Task A_retry_policy_matches_a_grpc_apps_failure_by_its_grpc_code()
    {
        var seen = new Seen();
        var (app, port) = await StartGrpcAppAsync(seen);
        await using var _ = app;
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().WithResiliency("""
            policies:
              retries:
                aborted:
                  policy: constant
                  duration: 50ms
                  maxRetries: 3
                  matching:
                    gRPCStatusCodes: "10"
                    httpStatusCodes: "400"
            targets:
              apps:
                grpc-app:
                  retry: aborted
            """);
        await using var callee = await SidecarProcess.StartAsync(new()
        {
            AppId = "grpc-app", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = port, ExtraArgs = ["--app-protocol", "grpc"],
        });
        await using var caller = await SidecarProcess.StartAsync(new() { AppId = "caller", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var http = caller.CreateHttpClient();

        using var contended = await http.PostAsync("/v1.0/invoke/grpc-app/method/contended", new StringContent("x"));
        using var invalid = await http.PostAsync("/v1.0/invoke/grpc-app/method/invalid", new StringContent("x"));

        contended.StatusCode.Should().Be(HttpStatusCode.OK, "Aborted (10) is listed, so the call was retried until the app took it");
        seen.Invocations.Count(i => i.Method == "contended").Should().Be(3);
        invalid.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        seen.Invocations.Count(i => i.Method == "invalid").Should().Be(1, "InvalidArgument (3) is not listed; its HTTP status, 400, counts only for HTTP apps");
        invalid.Headers.Should().NotContain(h => h.Key.StartsWith("daprshop-", StringComparison.Ordinal), "the code travels between sidecars only");
    }

    [Fact]
    public async Task A_grpc_app_subscribes_with_list_topic_subscriptions_and_its_statuses_decide_each_delivery()
    {
        var seen = new Seen();
        var (app, port) = await StartGrpcAppAsync(seen);
        await using var _ = app;
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder()
            .WithComponent("pubsub", "pubsub.in-memory", ("redeliverInterval", "100ms"))
            .WithComponent("tick", "bindings.cron", ("schedule", "@every 1s"));
        await using var sidecar = await SidecarProcess.StartAsync(new()
        {
            AppId = "grpc-app", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = port,
            ExtraArgs = ["--app-protocol", "grpc", "--enable-app-health-check", "--app-health-probe-interval", "1"],
        });
        using var client = sidecar.CreateClient();

        await client.PublishEventAsync("pubsub", "orders", new Order(1, "book"));
        await client.PublishEventAsync("pubsub", "orders", new Order(2, "refund"));
        await client.PublishEventAsync("pubsub", "orders", new Order(3, "flaky"));
        await client.PublishEventAsync("pubsub", "orders", new Order(4, "poison"));

        // No retry policy here: RETRY and DROP both end in the subscription's dead-letter topic.
        await Eventually.HoldsAsync(() => seen.Events.Count(e => e.Topic == "orders-dead") == 2, "the refused and the dropped order reach the dead-letter topic");
        seen.Events.Where(e => e.Topic == "orders-dead").Select(Number).Order().Should().Equal(3, 4);
        var book = seen.Events.Single(e => e.Topic == "orders" && Number(e) == 1);
        book.Path.Should().Be("orders", "the default route");
        seen.Events.Single(e => Number(e) == 2).Path.Should().Be("refunds", "the rule matched");
        book.PubsubName.Should().Be("pubsub");
        book.Source.Should().Be("grpc-app");
        book.Type.Should().Be("com.dapr.event.sent");
        book.SpecVersion.Should().Be("1.0");
        book.DataContentType.Should().Be("application/json");
        book.Id.Should().NotBeNullOrEmpty();
        book.Extensions.Fields.Should().ContainKey("traceparent");
        seen.Events.Where(e => e.Topic == "orders-dead").Should().OnlyContain(e => e.Path == "", "a subscription without routes is delivered with an empty path");

        (await client.BulkPublishEventAsync("pubsub", "metrics", Enumerable.Range(0, 6).Select(i => new Order(i, "metric")).ToList())).FailedEntries.Should().BeEmpty();
        await Eventually.HoldsAsync(() => seen.Batches.Sum(b => b.Entries.Count) == 6, "a bulk subscription's batches go to OnBulkTopicEvent");
        await Task.Delay(500);
        seen.Batches.Sum(b => b.Entries.Count).Should().Be(6, "every entry was answered SUCCESS once");
        var entry = seen.Batches.First().Entries[0];
        entry.CloudEvent.Type.Should().Be("com.dapr.event.sent");
        JsonDocument.Parse(entry.CloudEvent.Data.ToByteArray()).RootElement.GetProperty("kind").GetString().Should().Be("metric");
        seen.Batches.First().Topic.Should().Be("metrics");

        await Eventually.HoldsAsync(() => seen.Bindings.Any(b => b.Name == "tick"), "the cron binding the app listed fires into OnBindingEvent");
        await Eventually.HoldsAsync(() => Volatile.Read(ref seen.HealthChecks) >= 2, "the app's health is checked over AppCallbackHealthCheck");
    }

    private static int Number(TopicEventRequest e) => JsonDocument.Parse(e.Data.ToByteArray()).RootElement.GetProperty("number").GetInt32();
}
