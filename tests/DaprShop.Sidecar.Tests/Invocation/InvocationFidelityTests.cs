using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapr.Client.Autogen.Grpc.v1;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DaprShop.Sidecar.Tests.Invocation;

/// <summary>
/// Service invocation details an app can observe, as daprd has them: the method is cleaned before it becomes the
/// app's path, the body keeps its length, forwarding headers are added once, the app id may come outside the path.
/// </summary>
public sealed class InvocationFidelityTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();
    private readonly ResourcesFolder _resources = new();
    private TestApp _app = null!;
    private SidecarProcess _target = null!;
    private SidecarProcess _caller = null!;

    public async Task InitializeAsync()
    {
        _app = await TestApp.StartAsync(a =>
        {
            a.Map("/status/{code:int}", (int code) => Results.Text("the app answered " + code + " " + new string('x', 80), statusCode: code));
            a.Map("/headers", (HttpContext c) =>
            {
                c.Response.Headers["X-Answered-By"] = "catalog";
                c.Response.Headers.CacheControl = "no-store";
                c.Response.Headers["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
                return Results.Text("ok");
            });
            a.Map("/{**path}", (HttpContext c) => Results.Text("app:" + c.Request.Path));
        });
        _target = await SidecarProcess.StartAsync(new() { AppId = "catalog", AppPort = _app.Port, ResourcesPaths = [_resources.Path], MeshDirectory = _mesh.Directory });
        _caller = await SidecarProcess.StartAsync(new() { AppId = "storefront", ResourcesPaths = [_resources.Path], MeshDirectory = _mesh.Directory });
    }

    private Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient Grpc(out GrpcChannel channel)
    {
        channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_caller.GrpcPort}");
        return new Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient(channel);
    }

    private static InvokeServiceRequest Call(string method) => new()
    {
        Id = "catalog",
        Message = new InvokeRequest { Method = method, HttpExtension = new HTTPExtension { Verb = HTTPExtension.Types.Verb.Get } },
    };

    [Theory]
    [InlineData("../../../v1.0/metadata", "/v1.0/metadata")]
    [InlineData("orders/../../../../v1.0/state/statestore/x", "/v1.0/state/statestore/x")]
    [InlineData("./orders//7/.", "/orders/7")]
    [InlineData(@"..\..\v1.0\metadata", "/..%5C..%5Cv1.0%5Cmetadata")] // a backslash is escaped, never a separator
    public async Task A_method_never_climbs_out_of_the_app_to_a_sidecars_own_api(string method, string appPath)
    {
        var dapr = Grpc(out var channel);
        using var _ = channel;

        var response = await dapr.InvokeServiceAsync(Call(method));

        response.Data.Value.ToStringUtf8().Should().Be("app:" + appPath, "the cleaned method is a path of the app, whatever it looked like");
    }

    [Fact]
    public async Task An_escaped_backslash_in_an_http_method_stays_escaped_and_reaches_the_app()
    {
        using var http = _caller.CreateHttpClient();

        var answer = await http.GetStringAsync("/v1.0/invoke/catalog/method/..%5C..%5C..%5Cv1.0%5Cmetadata");

        answer.Should().Be("app:/..%5C..%5C..%5Cv1.0%5Cmetadata", "not the target sidecar's metadata");
    }

    [Theory]
    [InlineData("a?b")]
    [InlineData("a#b")]
    [InlineData("a\u0001b")]
    public async Task A_method_with_a_question_mark_a_hash_or_a_control_character_is_refused(string method)
    {
        var dapr = Grpc(out var channel);
        using var _ = channel;

        var refused = async () => await dapr.InvokeServiceAsync(Call(method));

        (await refused.Should().ThrowAsync<RpcException>()).Which.Status.Detail.Should().Contain("invalid method");
        _app.Requests.Where(r => r.Path.StartsWith("/a", StringComparison.Ordinal)).Should().BeEmpty("nothing reaches the app");
    }

    [Fact]
    public async Task Over_http_an_escaped_question_mark_in_the_method_is_refused_with_err_direct_invoke()
    {
        using var http = _caller.CreateHttpClient();

        using var response = await http.GetAsync("/v1.0/invoke/catalog/method/a%3Fb");

        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errorCode").GetString().Should().Be("ERR_DIRECT_INVOKE");
    }

    [Fact]
    public async Task A_body_reaches_the_other_app_with_its_content_length_not_chunked()
    {
        using var http = _caller.CreateHttpClient();

        (await http.PostAsync("/v1.0/invoke/catalog/method/upload", new ByteArrayContent(new byte[1234]))).EnsureSuccessStatusCode();

        var received = _app.RequestsTo("/upload").Single();
        received.Headers.Should().Contain("content-length", "1234");
        received.Headers.Should().NotContainKey("transfer-encoding");
        received.Body.Should().HaveCount(1234);
    }

    [Fact]
    public async Task The_calling_sidecar_adds_the_forwarding_headers_once()
    {
        using var http = _caller.CreateHttpClient();

        (await http.GetAsync("/v1.0/invoke/catalog/method/where")).EnsureSuccessStatusCode();

        var headers = _app.RequestsTo("/where").Single().Headers;
        headers["x-forwarded-for"].Should().Be("127.0.0.1");
        headers["x-forwarded-host"].Should().Be(Dns.GetHostName());
        headers["forwarded"].Should().Be($"for=127.0.0.1;by=127.0.0.1;host={Dns.GetHostName()}");
    }

    [Fact]
    public async Task Without_an_api_token_on_the_sidecar_a_dapr_api_token_header_is_the_apps_to_read()
    {
        using var http = _caller.CreateHttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1.0/invoke/catalog/method/token");
        request.Headers.Add("dapr-api-token", "the-apps-own");

        (await http.SendAsync(request)).EnsureSuccessStatusCode();

        _app.RequestsTo("/token").Single().Headers["dapr-api-token"].Should().Be("the-apps-own");
    }

    [Fact]
    public async Task An_app_id_in_the_header_or_in_basic_credentials_wins_over_the_path_which_becomes_the_method()
    {
        using var http = _caller.CreateHttpClient();
        using var byHeader = new HttpRequestMessage(HttpMethod.Get, "/v1.0/invoke/nobody/method/x");
        byHeader.Headers.Add("dapr-app-id", "catalog");
        using var byBasic = new HttpRequestMessage(HttpMethod.Get, "/orders/9");
        byBasic.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("dapr-app-id:catalog")));

        (await (await http.SendAsync(byHeader)).Content.ReadAsStringAsync()).Should().Be("app:/v1.0/invoke/nobody/method/x");
        (await (await http.SendAsync(byBasic)).Content.ReadAsStringAsync()).Should().Be("app:/orders/9");
    }

    [Fact]
    public async Task A_grpc_caller_gets_the_http_apps_headers_and_status_as_response_metadata()
    {
        var dapr = Grpc(out var channel);
        using var _ = channel;

        using var call = dapr.InvokeServiceAsync(Call("headers"));
        var headers = await call.ResponseHeadersAsync;
        (await call.ResponseAsync).Data.Value.ToStringUtf8().Should().Be("ok");

        headers.GetValue("x-answered-by").Should().Be("catalog");
        headers.GetValue("dapr-cache-control").Should().Be("no-store", "daprd prefixes the IANA permanent headers");
        headers.GetValue("dapr-content-type").Should().StartWith("text/plain");
        headers.GetValue("dapr-http-status").Should().Be("200");
        headers.GetValue("traceparent").Should().NotBe("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "the app's trace context is not handed back");
    }

    [Theory]
    [InlineData(400, StatusCode.Internal, "Bad Request")]
    [InlineData(404, StatusCode.NotFound, "Not Found")]
    [InlineData(409, StatusCode.AlreadyExists, "Conflict")]
    [InlineData(500, StatusCode.Unknown, "Internal Server Error")]
    [InlineData(418, StatusCode.Unknown, "I'm a teapot")]
    [InlineData(302, StatusCode.Unknown, "Found")]
    public async Task An_http_apps_error_reaches_a_grpc_caller_as_daprds_status_with_the_http_answer_in_error_info(int httpStatus, StatusCode expected, string reason)
    {
        var dapr = Grpc(out var channel);
        using var _ = channel;

        using var call = dapr.InvokeServiceAsync(Call($"status/{httpStatus}"));
        var failed = async () => await call.ResponseAsync;

        var error = (await failed.Should().ThrowAsync<RpcException>()).Which;
        error.StatusCode.Should().Be(expected);
        error.Status.Detail.Should().Be(reason, "daprd's message is the HTTP reason phrase; the body goes into the details");
        (await call.ResponseHeadersAsync).GetValue("dapr-http-status").Should().Be(httpStatus.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var details = Google.Rpc.Status.Parser.ParseFrom(error.Trailers.GetValueBytes("grpc-status-details-bin"));
        details.Code.Should().Be((int)expected);
        var info = details.Details.Single().Unpack<Google.Rpc.ErrorInfo>();
        info.Reason.Should().Be(reason);
        info.Domain.Should().Be("dapr.io");
        info.Metadata["http.code"].Should().Be(httpStatus.ToString(System.Globalization.CultureInfo.InvariantCulture));
        info.Metadata["http.error_message"].Should().Be(("the app answered " + httpStatus + " " + new string('x', 80))[..63], "the body is cut to ErrorInfo's 63 bytes");
    }

    [Fact]
    public async Task The_dotnet_sdk_finds_the_extended_error_info_of_an_http_apps_error()
    {
        using var client = new Dapr.Client.DaprClientBuilder().UseGrpcEndpoint($"http://127.0.0.1:{_caller.GrpcPort}").UseHttpEndpoint(_caller.HttpEndpoint.ToString()).Build();

#pragma warning disable CS0618 // the SDK's gRPC invocation is deprecated, not gone; apps still call it
        var failed = async () => await client.InvokeMethodGrpcAsync("catalog", "status/404");
#pragma warning restore CS0618

        var error = (await failed.Should().ThrowAsync<Dapr.DaprException>()).Which;
        Dapr.Common.Exceptions.DaprExceptionExtensions.TryGetExtendedErrorInfo(error, out var info).Should().BeTrue();
        info!.Message.Should().Be("Not Found");
        info.Details.Should().ContainSingle();
    }

    public async Task DisposeAsync()
    {
        await _caller.DisposeAsync();
        await _target.DisposeAsync();
        await _app.DisposeAsync();
        _resources.Dispose();
        _mesh.Dispose();
    }
}
