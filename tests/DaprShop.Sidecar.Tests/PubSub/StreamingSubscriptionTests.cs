using System.Text.Json;
using Dapr.AppCallback.Autogen.Grpc.v1;
using Dapr.Client.Autogen.Grpc.v1;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Grpc.Core;
using Grpc.Net.Client;
using GrpcDapr = Dapr.Client.Autogen.Grpc.v1.Dapr;

namespace DaprShop.Sidecar.Tests.PubSub;

/// <summary>
/// Streaming subscriptions (<c>SubscribeTopicEventsAlpha1</c>, the API behind the SDKs' streaming subscribers)
/// through a real sidecar that has no app at all: the subscriber is a gRPC client, as with daprd.
/// </summary>
public sealed class StreamingSubscriptionTests : IAsyncLifetime
{
    private sealed record Order(int Number, string Kind);

    private readonly TestMesh _mesh = new();
    private readonly ResourcesFolder _resources = new ResourcesFolder()
        .WithComponent("pubsub", "pubsub.in-memory", ("redeliverInterval", "100ms"))
        .WithComponent("scoped", "pubsub.in-memory", ("subscriptionScopes", "worker=audit"))
        .WithResiliency("""
            policies:
              retries:
                fast:
                  policy: constant
                  duration: 50ms
                  maxRetries: 3
            targets:
              components:
                pubsub:
                  inbound:
                    retry: fast
            """);
    private SidecarProcess _sidecar = null!;
    private GrpcChannel _channel = null!;

    public async Task InitializeAsync()
    {
        _sidecar = await SidecarProcess.StartAsync(new() { AppId = "worker", ResourcesPaths = [_resources.Path], MeshDirectory = _mesh.Directory });
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_sidecar.GrpcPort}");
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _sidecar.DisposeAsync();
        _resources.Dispose();
        _mesh.Dispose();
    }

    private GrpcDapr.DaprClient Dapr => new(_channel);

    /// <summary>Opens a stream and waits for the sidecar's initial response, after which events may come.</summary>
    private async Task<AsyncDuplexStreamingCall<SubscribeTopicEventsRequestAlpha1, SubscribeTopicEventsResponseAlpha1>> SubscribeAsync(string topic, string deadLetterTopic = "")
    {
        var call = Dapr.SubscribeTopicEventsAlpha1();
        await call.RequestStream.WriteAsync(new SubscribeTopicEventsRequestAlpha1
        {
            InitialRequest = new SubscribeTopicEventsRequestInitialAlpha1 { PubsubName = "pubsub", Topic = topic, DeadLetterTopic = deadLetterTopic },
        });
        (await NextAsync(call)).InitialResponse.Should().NotBeNull("the sidecar confirms the subscription before any event");
        return call;
    }

    private static async Task<SubscribeTopicEventsResponseAlpha1> NextAsync(AsyncDuplexStreamingCall<SubscribeTopicEventsRequestAlpha1, SubscribeTopicEventsResponseAlpha1> call)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        (await call.ResponseStream.MoveNext(timeout.Token)).Should().BeTrue("the stream stays open while subscribed");
        return call.ResponseStream.Current;
    }

    private static async Task<TopicEventRequest> NextEventAsync(AsyncDuplexStreamingCall<SubscribeTopicEventsRequestAlpha1, SubscribeTopicEventsResponseAlpha1> call)
    {
        var next = await NextAsync(call);
        next.EventMessage.Should().NotBeNull();
        return next.EventMessage;
    }

    private static Task AnswerAsync(AsyncDuplexStreamingCall<SubscribeTopicEventsRequestAlpha1, SubscribeTopicEventsResponseAlpha1> call, string id, TopicEventResponse.Types.TopicEventResponseStatus status) =>
        call.RequestStream.WriteAsync(new SubscribeTopicEventsRequestAlpha1
        {
            EventProcessed = new SubscribeTopicEventsRequestProcessedAlpha1 { Id = id, Status = new TopicEventResponse { Status = status } },
        });

    private async Task PublishAsync(string topic, Order order)
    {
        using var client = _sidecar.CreateClient();
        await client.PublishEventAsync("pubsub", topic, order);
    }

    private async Task<List<PubsubSubscription>> SubscriptionsAsync() => [.. (await Dapr.GetMetadataAsync(new GetMetadataRequest())).Subscriptions];

    [Fact]
    public async Task A_streaming_subscriber_with_no_app_receives_each_event_as_a_cloud_event_and_is_listed_while_open()
    {
        using (var call = await SubscribeAsync("orders"))
        {
            await PublishAsync("orders", new Order(1, "book"));

            var received = await NextEventAsync(call);
            received.Topic.Should().Be("orders");
            received.PubsubName.Should().Be("pubsub");
            received.Source.Should().Be("worker", "the publisher's app id");
            received.Type.Should().Be("com.dapr.event.sent");
            received.SpecVersion.Should().Be("1.0");
            received.DataContentType.Should().Be("application/json");
            received.Path.Should().Be("/");
            JsonSerializer.Deserialize<Order>(received.Data.ToStringUtf8(), JsonSerializerOptions.Web).Should().Be(new Order(1, "book"));
            received.Extensions.Fields.Should().ContainKey("traceparent");
            await AnswerAsync(call, received.Id, TopicEventResponse.Types.TopicEventResponseStatus.Success);

            var listed = (await SubscriptionsAsync()).Should().ContainSingle().Subject;
            listed.Type.Should().Be(PubsubSubscriptionType.Streaming);
            (listed.PubsubName, listed.Topic).Should().Be(("pubsub", "orders"));
            listed.Rules.Rules.Should().ContainSingle(r => r.Path == "/");

            await call.RequestStream.CompleteAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            (await call.ResponseStream.MoveNext(timeout.Token)).Should().BeFalse("the sidecar ends the stream when the app does");
        }

        (await SubscriptionsAsync()).Should().BeEmpty("a closed stream unsubscribes");
    }

    [Fact]
    public async Task An_event_another_app_of_the_mesh_publishes_reaches_a_streaming_subscriber()
    {
        using var call = await SubscribeAsync("orders");
        await using var shop = await SidecarProcess.StartAsync(new() { AppId = "shop", ResourcesPaths = [_resources.Path], MeshDirectory = _mesh.Directory });
        using var client = shop.CreateClient();

        await client.PublishEventAsync("pubsub", "orders", new Order(6, "from the shop"));

        var received = await NextEventAsync(call);
        received.Source.Should().Be("shop");
        JsonSerializer.Deserialize<Order>(received.Data.ToStringUtf8(), JsonSerializerOptions.Web).Should().Be(new Order(6, "from the shop"));
    }

    [Fact]
    public async Task An_event_answered_RETRY_comes_again_and_one_answered_DROP_goes_to_the_dead_letter_topic()
    {
        using var deadLetters = await SubscribeAsync("orders-dead");
        using var call = await SubscribeAsync("orders", deadLetterTopic: "orders-dead");

        await PublishAsync("orders", new Order(2, "retried"));
        var first = await NextEventAsync(call);
        await AnswerAsync(call, first.Id, TopicEventResponse.Types.TopicEventResponseStatus.Retry);
        var again = await NextEventAsync(call);
        again.Id.Should().Be(first.Id, "RETRY hands the same event back for another try");
        await AnswerAsync(call, again.Id, TopicEventResponse.Types.TopicEventResponseStatus.Success);

        await PublishAsync("orders", new Order(3, "dropped"));
        var dropped = await NextEventAsync(call);
        await AnswerAsync(call, dropped.Id, TopicEventResponse.Types.TopicEventResponseStatus.Drop);

        var dead = await NextEventAsync(deadLetters);
        dead.Id.Should().Be(dropped.Id);
        JsonSerializer.Deserialize<Order>(dead.Data.ToStringUtf8(), JsonSerializerOptions.Web).Should().Be(new Order(3, "dropped"));
        await AnswerAsync(deadLetters, dead.Id, TopicEventResponse.Types.TopicEventResponseStatus.Success);
    }

    [Fact]
    public async Task An_event_left_unanswered_when_its_stream_closes_goes_to_the_dead_letter_topic_not_nowhere()
    {
        using var deadLetters = await SubscribeAsync("orders-dead");
        var call = await SubscribeAsync("orders", deadLetterTopic: "orders-dead");

        await PublishAsync("orders", new Order(4, "in flight"));
        var unanswered = await NextEventAsync(call);
        call.Dispose(); // the subscriber goes away without answering

        var dead = await NextEventAsync(deadLetters);
        dead.Id.Should().Be(unanswered.Id);
    }

    [Fact]
    public async Task Two_streams_on_one_topic_each_receive_every_event_of_the_in_memory_broker()
    {
        using var one = await SubscribeAsync("orders");
        using var two = await SubscribeAsync("orders");

        await PublishAsync("orders", new Order(5, "fan-out"));

        (await NextEventAsync(one)).Id.Should().Be((await NextEventAsync(two)).Id, "each connection is a subscription of its own, as in daprd 1.18");
        (await SubscriptionsAsync()).Should().HaveCount(2);
    }

    [Theory]
    [InlineData("", "orders", StatusCode.Unknown, "pubsubName is required")]
    [InlineData("pubsub", "", StatusCode.Unknown, "topic is required")]
    [InlineData("nope", "orders", StatusCode.InvalidArgument, "pubsub nope is not found")]
    [InlineData("scoped", "orders", StatusCode.PermissionDenied, "topic orders is not allowed for app id worker")]
    public async Task A_stream_whose_initial_request_is_incomplete_or_names_an_unknown_pubsub_is_refused(string pubsub, string topic, StatusCode code, string message)
    {
        using var call = Dapr.SubscribeTopicEventsAlpha1();
        await call.RequestStream.WriteAsync(new SubscribeTopicEventsRequestAlpha1
        {
            InitialRequest = new SubscribeTopicEventsRequestInitialAlpha1 { PubsubName = pubsub, Topic = topic },
        });

        var refused = await call.Invoking(c => c.ResponseStream.MoveNext(CancellationToken.None)).Should().ThrowAsync<RpcException>();
        refused.Which.StatusCode.Should().Be(code);
        refused.Which.Status.Detail.Should().Be(message);
        (await SubscriptionsAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task A_stream_that_does_not_begin_with_an_initial_request_is_refused()
    {
        using var call = Dapr.SubscribeTopicEventsAlpha1();
        await AnswerAsync(call, "some-id", TopicEventResponse.Types.TopicEventResponseStatus.Success);

        var refused = await call.Invoking(c => c.ResponseStream.MoveNext(CancellationToken.None)).Should().ThrowAsync<RpcException>();
        refused.Which.StatusCode.Should().Be(StatusCode.Unknown);
        refused.Which.Status.Detail.Should().Be("initial request is required");
    }
}
