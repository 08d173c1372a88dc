using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapr.Client.Autogen.Grpc.v1;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using GrpcDapr = Dapr.Client.Autogen.Grpc.v1.Dapr;

namespace DaprShop.Sidecar.Tests.Hosting;

/// <summary>
/// The Configuration's <c>api.allowed</c>/<c>api.denied</c> lists, per protocol as daprd applies them: an HTTP route
/// they exclude is not there (the call meets daprd's fallback, "no app id"), a gRPC method they exclude answers
/// Unimplemented; the health checks always answer.
/// </summary>
public sealed class ApiAllowListTests
{
    /// <summary>A Configuration whose <c>spec.api</c> is <paramref name="api"/> (indented by four spaces).</summary>
    private static string Configuration(string api) => $"""
        apiVersion: dapr.io/v1alpha1
        kind: Configuration
        metadata:
          name: lists
        spec:
          api:
        {api}
        """;

    /// <summary>A sidecar under the given <c>spec.api</c> lists, with a state store and a broker, and clients of both APIs.</summary>
    private sealed class Guarded : IAsyncDisposable
    {
        private readonly TestMesh _mesh = new();
        private readonly ResourcesFolder _resources;
        private SidecarProcess _sidecar = null!;
        private GrpcChannel _channel = null!;

        private Guarded(string api) => _resources = new ResourcesFolder()
            .WithComponent("store", "state.in-memory")
            .WithComponent("pubsub", "pubsub.in-memory")
            .With("config.yaml", Configuration(api));

        public HttpClient Http { get; private set; } = null!;
        public GrpcDapr.DaprClient Grpc { get; private set; } = null!;

        public static async Task<Guarded> StartAsync(string api)
        {
            var guarded = new Guarded(api);
            guarded._sidecar = await SidecarProcess.StartAsync(new()
            {
                AppId = "guarded", ResourcesPaths = [guarded._resources.Path], MeshDirectory = guarded._mesh.Directory,
                ConfigPath = Path.Combine(guarded._resources.Path, "config.yaml"),
            });
            guarded.Http = guarded._sidecar.CreateHttpClient();
            guarded._channel = GrpcChannel.ForAddress($"http://127.0.0.1:{guarded._sidecar.GrpcPort}");
            guarded.Grpc = new GrpcDapr.DaprClient(guarded._channel);
            return guarded;
        }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            _channel.Dispose();
            await _sidecar.DisposeAsync();
            _resources.Dispose();
            _mesh.Dispose();
        }
    }

    private static async Task ShouldBeMissingAsync(HttpResponseMessage response)
    {
        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errorCode").GetString().Should().Be("ERR_DIRECT_INVOKE", "the route is not there: the call meets the fallback");
    }

    private static async Task ShouldBeUnimplementedAsync(Func<Task> call)
    {
        var refused = (await call.Should().ThrowAsync<RpcException>()).Which;
        refused.StatusCode.Should().Be(StatusCode.Unimplemented);
        refused.Status.Detail.Should().Be("Not Implemented");
        var details = Google.Rpc.Status.Parser.ParseFrom(refused.Trailers.GetValueBytes("grpc-status-details-bin"));
        var info = details.Details.Single().Unpack<Google.Rpc.ErrorInfo>();
        info.Metadata["http.code"].Should().Be("501");
        info.Metadata["http.error_message"].Should().Be("requested endpoint is not available");
    }

    private static PublishEventRequest Publish() => new() { PubsubName = "pubsub", Topic = "orders", Data = ByteString.CopyFromUtf8("{}"), DataContentType = "application/json" };

    [Fact]
    public async Task An_allow_list_leaves_each_protocol_only_its_own_listed_apis()
    {
        await using var guarded = await Guarded.StartAsync("""
                allowed:
                  - name: state
                    version: v1.0
                    protocol: http
                  - name: state
                    version: v1
                    protocol: grpc
                  - name: metadata
                    version: v1
                    protocol: grpc
            """);
        var (http, grpc) = (guarded.Http, guarded.Grpc);

        (await http.PostAsJsonAsync("/v1.0/state/store", new[] { new { key = "k", value = 1 } })).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await http.GetStringAsync("/v1.0/state/store/k")).Should().Be("1");
        (await http.GetAsync("/v1.0/healthz")).StatusCode.Should().Be(HttpStatusCode.NoContent, "the health checks are always allowed");
        await ShouldBeMissingAsync(await http.PostAsJsonAsync("/v1.0/publish/pubsub/orders", new { }));
        await ShouldBeMissingAsync(await http.GetAsync("/v1.0/metadata"));

        (await grpc.GetStateAsync(new GetStateRequest { StoreName = "store", Key = "k" })).Data.ToStringUtf8().Should().Be("1");
        (await grpc.GetMetadataAsync(new GetMetadataRequest())).Id.Should().Be("guarded", "metadata is listed for gRPC, though not for HTTP");
        await ShouldBeUnimplementedAsync(async () => await grpc.PublishEventAsync(Publish()));
        await ShouldBeUnimplementedAsync(async () => await grpc.InvokeBindingAsync(new InvokeBindingRequest { Name = "none", Operation = "create" }));
    }

    [Fact]
    public async Task A_deny_list_removes_only_its_apis_and_wins_over_the_allow_list()
    {
        await using var guarded = await Guarded.StartAsync("""
                allowed:
                  - name: state
                    version: v1
                    protocol: http
                  - name: publish
                    version: v1.0
                    protocol: http
                denied:
                  - name: publish
                    version: v1
                    protocol: http
                  - name: state
                    version: v1
                    protocol: grpc
            """);
        var (http, grpc) = (guarded.Http, guarded.Grpc);

        (await http.PostAsJsonAsync("/v1.0/state/store", new[] { new { key = "k", value = 2 } })).StatusCode
            .Should().Be(HttpStatusCode.NoContent, "the rule names the state group and its version v1, which is /v1.0/state");
        await ShouldBeMissingAsync(await http.PostAsJsonAsync("/v1.0/publish/pubsub/orders", new { }));

        await ShouldBeUnimplementedAsync(async () => await grpc.GetStateAsync(new GetStateRequest { StoreName = "store", Key = "k" }));
        await grpc.PublishEventAsync(Publish()); // no gRPC allow rule: every gRPC method the deny list leaves answers
    }

    [Theory]
    [InlineData("protocol", "- name: state\n        version: v1.0")]
    [InlineData("protocol", "- name: state\n        version: v1.0\n        protocol: https")]
    [InlineData("version", "- name: state\n        protocol: http")]
    public async Task An_api_rule_without_a_protocol_or_version_stops_the_start_naming_the_field(string field, string rule)
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().With("config.yaml", Configuration($"    allowed:\n      {rule}"));
        var (code, output) = await SidecarProcess.RunToExitAsync(new()
        {
            AppId = "broken", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, ConfigPath = Path.Combine(resources.Path, "config.yaml"),
        });

        code.Should().NotBe(0);
        output.Should().Contain("config.yaml").And.Contain($"spec.api.allowed[0].{field}");
    }
}
