using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Dapr.Client.Autogen.Grpc.v1;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace DaprShop.Sidecar.Tests.Hosting;

/// <summary>
/// daprd 1.18's rich error model on the state and pub/sub APIs: a <c>google.rpc.ErrorInfo</c> (and ResourceInfo,
/// BadRequest or Help where daprd adds them) in <c>grpc-status-details-bin</c> over gRPC and in <c>details</c> over HTTP.
/// The expected HTTP bodies are written out as daprd writes them.
/// </summary>
public sealed class RichErrorTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();
    private readonly ResourcesFolder _resources = new ResourcesFolder()
        .WithComponent("statestore", "state.in-memory")
        .WithComponent("pubsub", "pubsub.in-memory");
    private SidecarProcess _sidecar = null!;
    private GrpcChannel _channel = null!;

    private Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient Grpc => new(_channel);

    public async Task InitializeAsync()
    {
        _sidecar = await SidecarProcess.StartAsync(new() { AppId = "errors", ResourcesPaths = [_resources.Path], MeshDirectory = _mesh.Directory });
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_sidecar.GrpcPort}");
    }

    private async Task<(HttpStatusCode Status, JsonNode Body)> HttpError(HttpRequestMessage request)
    {
        using var http = _sidecar.CreateHttpClient();
        using var response = await http.SendAsync(request);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    private static void ShouldEqual(JsonNode actual, string expected) =>
        JsonNode.DeepEquals(actual, JsonNode.Parse(expected)).Should().BeTrue($"{actual.ToJsonString()} should be {expected}");

    private static async Task<(RpcException Error, Google.Rpc.Status Details)> GrpcError(Func<Task> call)
    {
        var error = (await call.Should().ThrowAsync<RpcException>()).Which;
        var bytes = error.Trailers.GetValueBytes("grpc-status-details-bin");
        bytes.Should().NotBeNull("daprd attaches a google.rpc.Status to this error");
        return (error, Google.Rpc.Status.Parser.ParseFrom(bytes));
    }

    [Fact]
    public async Task An_unknown_state_store_carries_error_info_with_the_app_id_over_http_and_grpc()
    {
        var (status, body) = await HttpError(new HttpRequestMessage(HttpMethod.Get, "/v1.0/state/nope/k"));

        status.Should().Be(HttpStatusCode.BadRequest);
        ShouldEqual(body, """
            {"errorCode":"ERR_STATE_STORE_NOT_FOUND","message":"state store nope is not found","details":[
              {"@type":"type.googleapis.com/google.rpc.ErrorInfo","domain":"dapr.io","metadata":{"appID":"errors"},"reason":"DAPR_STATE_NOT_FOUND"}]}
            """);

        var (error, details) = await GrpcError(async () => await Grpc.GetStateAsync(new GetStateRequest { StoreName = "nope", Key = "k" }));
        error.StatusCode.Should().Be(StatusCode.InvalidArgument);
        details.Code.Should().Be((int)StatusCode.InvalidArgument);
        details.Message.Should().Be("state store nope is not found");
        var info = details.Details.Single().Unpack<Google.Rpc.ErrorInfo>();
        (info.Reason, info.Domain, info.Metadata["appID"]).Should().Be(("DAPR_STATE_NOT_FOUND", "dapr.io", "errors"));
    }

    [Fact]
    public async Task A_key_with_the_separator_is_a_field_violation_on_the_store()
    {
        var save = new SaveStateRequest { StoreName = "statestore" };
        save.States.Add(new StateItem { Key = "a||b", Value = ByteString.CopyFromUtf8("1") });

        var (error, details) = await GrpcError(async () => await Grpc.SaveStateAsync(save));

        error.StatusCode.Should().Be(StatusCode.InvalidArgument);
        error.Status.Detail.Should().Be("input key/keyPrefix 'a||b' can't contain '||'");
        details.Details.Select(d => d.TypeUrl).Should().Equal(
            "type.googleapis.com/google.rpc.BadRequest", "type.googleapis.com/google.rpc.ResourceInfo", "type.googleapis.com/google.rpc.ErrorInfo");
        var violation = details.Details[0].Unpack<Google.Rpc.BadRequest>().FieldViolations.Single();
        (violation.Field, violation.Description).Should().Be(("a||b", "input key/keyPrefix 'a||b' can't contain '||'"));
        var resource = details.Details[1].Unpack<Google.Rpc.ResourceInfo>();
        (resource.ResourceType, resource.ResourceName, resource.Owner, resource.Description).Should().Be(("state", "statestore", "", ""));
        details.Details[2].Unpack<Google.Rpc.ErrorInfo>().Reason.Should().Be("DAPR_STATE_ILLEGAL_KEY");
    }

    [Fact]
    public async Task A_store_without_queries_names_itself_and_has_no_metadata()
    {
        var (status, body) = await HttpError(new HttpRequestMessage(HttpMethod.Post, "/v1.0-alpha1/state/statestore/query")
        {
            Content = new StringContent("""{"filter":{"EQ":{"a":1}}}""", Encoding.UTF8, "application/json"),
        });

        status.Should().Be(HttpStatusCode.InternalServerError);
        ShouldEqual(body, """
            {"errorCode":"ERR_STATE_STORE_NOT_SUPPORTED","message":"state store does not support querying","details":[
              {"@type":"type.googleapis.com/google.rpc.ResourceInfo","description":"","owner":"","resource_name":"statestore","resource_type":"state"},
              {"@type":"type.googleapis.com/google.rpc.ErrorInfo","domain":"dapr.io","metadata":null,"reason":"DAPR_STATE_QUERYING_NOT_SUPPORTED"}]}
            """);
    }

    [Fact]
    public async Task An_unknown_pubsub_carries_the_requests_metadata()
    {
        var (status, body) = await HttpError(new HttpRequestMessage(HttpMethod.Post, "/v1.0/publish/nope/orders?metadata.ttlInSeconds=60")
        {
            Content = new StringContent("{}", Encoding.UTF8, "application/json"),
        });

        status.Should().Be(HttpStatusCode.NotFound);
        ShouldEqual(body, """
            {"errorCode":"ERR_PUBSUB_NOT_FOUND","message":"pubsub nope is not found","details":[
              {"@type":"type.googleapis.com/google.rpc.ErrorInfo","domain":"dapr.io","metadata":{"ttlInSeconds":"60"},"reason":"DAPR_PUBSUB_NOT_FOUND"}]}
            """);

        var (_, empty) = await HttpError(new HttpRequestMessage(HttpMethod.Post, "/v1.0/publish/nope/orders") { Content = new StringContent("{}") });
        empty["details"]![0]!["metadata"]!.ToJsonString().Should().Be("{}", "daprd's HTTP API always has a metadata map, empty or not");
    }

    [Fact]
    public async Task Repeated_bulk_entry_ids_name_the_pubsub_the_app_and_the_cause()
    {
        var request = new BulkPublishRequest { PubsubName = "pubsub", Topic = "orders" };
        request.Entries.Add(new BulkPublishRequestEntry { EntryId = "1", Event = ByteString.CopyFromUtf8("{}"), ContentType = "application/json" });
        request.Entries.Add(new BulkPublishRequestEntry { EntryId = "1", Event = ByteString.CopyFromUtf8("{}"), ContentType = "application/json" });

        var (error, details) = await GrpcError(async () => await Grpc.BulkPublishEventAsync(request));

        error.StatusCode.Should().Be(StatusCode.InvalidArgument);
        const string message = "error marshaling events to bytes for topic orders pubsub pubsub. error: entryId is duplicated or not present for entry";
        error.Status.Detail.Should().Be(message);
        var resource = details.Details[0].Unpack<Google.Rpc.ResourceInfo>();
        (resource.ResourceType, resource.ResourceName, resource.Description).Should().Be(("pubsub", "pubsub", message));
        var info = details.Details[1].Unpack<Google.Rpc.ErrorInfo>();
        info.Reason.Should().Be("DAPR_PUBSUB_MARSHAL_EVENTS");
        info.Metadata.Should().BeEquivalentTo(new Dictionary<string, string> { ["appID"] = "errors", ["error"] = "entryId is duplicated or not present for entry" });
    }

    [Fact]
    public async Task An_http_bulk_body_that_is_not_a_list_of_entries_is_an_unmarshal_error()
    {
        var (status, body) = await HttpError(new HttpRequestMessage(HttpMethod.Post, "/v1.0-alpha1/publish/bulk/pubsub/orders")
        {
            Content = new StringContent("""{"not":"a list"}""", Encoding.UTF8, "application/json"),
        });

        status.Should().Be(HttpStatusCode.BadRequest);
        body["errorCode"]!.GetValue<string>().Should().Be("ERR_PUBSUB_EVENTS_SER");
        body["message"]!.GetValue<string>().Should().StartWith("error when unmarshaling the request for topic orders pubsub pubsub: ");
        body["details"]![1]!["reason"]!.GetValue<string>().Should().Be("DAPR_PUBSUB_UNMARSHAL_EVENTS");
        body["details"]![1]!["metadata"]!.ToJsonString().Should().Be("""{"appID":"errors"}""");
    }

    [Fact]
    public async Task Errors_daprd_keeps_plain_have_no_details()
    {
        var (status, body) = await HttpError(new HttpRequestMessage(HttpMethod.Post, "/v1.0/state/statestore")
        {
            Content = new StringContent("""[{"key":"k","value":1,"etag":"not-a-number"}]""", Encoding.UTF8, "application/json"),
        });

        ((int)status).Should().BeOneOf(400, 409);
        body.AsObject().Select(p => p.Key).Should().Equal("errorCode", "message");
    }

    [Fact]
    public async Task The_dotnet_sdk_finds_the_extended_error_info()
    {
        using var client = new Dapr.Client.DaprClientBuilder().UseGrpcEndpoint($"http://127.0.0.1:{_sidecar.GrpcPort}").UseHttpEndpoint(_sidecar.HttpEndpoint.ToString()).Build();

        var failed = async () => await client.GetStateAsync<string>("nope", "k");

        var error = (await failed.Should().ThrowAsync<Dapr.DaprException>()).Which;
        Dapr.Common.Exceptions.DaprExceptionExtensions.TryGetExtendedErrorInfo(error, out var info).Should().BeTrue();
        info!.Code.Should().Be((int)StatusCode.InvalidArgument);
        info.Message.Should().Be("state store nope is not found");
        info.Details.Should().ContainSingle();
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _sidecar.DisposeAsync();
        _resources.Dispose();
        _mesh.Dispose();
    }
}
