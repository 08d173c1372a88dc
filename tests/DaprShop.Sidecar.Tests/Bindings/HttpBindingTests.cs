using System.Net;
using System.Text;
using Dapr;
using Dapr.Client;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DaprShop.Sidecar.Tests.Bindings;

/// <summary>One target app and one sidecar shared by the HTTP binding tests; each test uses its own target paths.</summary>
public sealed class HttpBindingFixture : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();
    private readonly ResourcesFolder _resources = new();

    public TestApp Target { get; private set; } = null!;
    public SidecarProcess Sidecar { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Target = await TestApp.StartAsync(a =>
        {
            a.MapPost("/api/orders/{id}", (string id, HttpResponse response) =>
            {
                response.Headers["X-Order-Id"] = id;
                return Results.Json(new { accepted = id }, statusCode: 201);
            });
            a.MapGet("/api/items", () => Results.Json(new[] { "bolt", "nut" }));
            a.MapMethods("/api/any/{op}", ["PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "POST"], (HttpRequest r) => Results.Text("done " + r.Method));
            a.MapGet("/api/broken", () => Results.Text("boom", statusCode: 500));
            a.MapGet("/api/slow", async () =>
            {
                await Task.Delay(TimeSpan.FromSeconds(5));
                return Results.Text("late");
            });
        });
        _resources
            .WithComponent("target", "bindings.http", ("url", $"http://127.0.0.1:{Target.Port}/"), ("securityToken", "tok-123"), ("securityTokenHeader", "X-Token"))
            .WithComponent("tiny", "bindings.http", ("url", $"http://127.0.0.1:{Target.Port}/api"), ("maxResponseBodySize", "3"))
            .WithComponent("impatient", "bindings.http", ("url", $"http://127.0.0.1:{Target.Port}/api"), ("responseTimeout", "300ms"));
        Sidecar = await SidecarProcess.StartAsync(new() { AppId = "http-binding", ResourcesPaths = [_resources.Path], MeshDirectory = _mesh.Directory });
    }

    public async Task DisposeAsync()
    {
        await Sidecar.DisposeAsync();
        await Target.DisposeAsync();
        _resources.Dispose();
        _mesh.Dispose();
    }
}

public sealed class HttpBindingTests(HttpBindingFixture fixture) : IClassFixture<HttpBindingFixture>
{
    private readonly TestApp _target = fixture.Target;
    private readonly SidecarProcess _sidecar = fixture.Sidecar;

    [Fact]
    public async Task A_post_over_http_reaches_the_target_with_path_headers_and_body_and_returns_its_answer()
    {
        using var http = _sidecar.CreateHttpClient();

        using var response = await http.InvokeBindingAsync("target", new
        {
            operation = "post",
            data = new { sku = "bolt", qty = 3 },
            metadata = new Dictionary<string, string> { ["path"] = "/api/orders/7", ["X-Tenant"] = "acme", ["lowerCase"] = "not a header" },
        });

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("{\"accepted\":\"7\"}");
        response.Headers.GetValues("metadata.statusCode").Should().Equal("201");
        response.Headers.GetValues("metadata.status").Should().Equal("201 Created");
        response.Headers.GetValues("metadata.X-Order-Id").Should().Equal("7");
        var received = _target.RequestsTo("/api/orders/7").Should().ContainSingle().Subject;
        received.Method.Should().Be("POST");
        received.BodyText.Should().Be("{\"sku\":\"bolt\",\"qty\":3}");
        received.ContentType.Should().Be("application/json; charset=utf-8");
        received.Headers["x-tenant"].Should().Be("acme");
        received.Headers["x-token"].Should().Be("tok-123");
        received.Headers.Should().NotContainKey("lowercase", "only metadata keys starting with a capital letter are headers");
        received.Headers.Should().NotContainKey("path");
    }

    [Fact]
    public async Task Over_http_the_data_is_json_encoded_as_daprd_does_and_the_answer_is_application_json()
    {
        using var http = _sidecar.CreateHttpClient();

        using var response = await http.InvokeBindingAsync("target", new { operation = "post", data = "hi", metadata = new { path = "/api/any/quoted" } });

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json", "daprd's content type for any binding answer");
        (await response.Content.ReadAsStringAsync()).Should().Be("done POST");
        response.Headers.GetValues("metadata.Content-Type").Single().Should().StartWith("text/plain", "the target's own type is in the metadata");
        _target.RequestsTo("/api/any/quoted").Single().BodyText.Should().Be("\"hi\"", "daprd re-encodes data as JSON, so a string arrives quoted");
    }

    [Fact]
    public async Task The_sdk_gets_the_body_and_status_code_metadata()
    {
        using var client = _sidecar.CreateClient();

        var response = await client.InvokeBindingAsync(new BindingRequest("target", "get") { Metadata = { ["path"] = "api/items" } });

        Encoding.UTF8.GetString(response.Data.Span).Should().Be("[\"bolt\",\"nut\"]");
        response.Metadata["statusCode"].Should().Be("200");
        response.Metadata["Content-Type"].Should().StartWith("application/json");
        _target.RequestsTo("/api/items").Should().AllSatisfy(r => r.Headers["accept"].Should().Be("application/json; charset=utf-8"));
    }

    [Theory]
    [InlineData("create", "POST")]
    [InlineData("post", "POST")]
    [InlineData("put", "PUT")]
    [InlineData("patch", "PATCH")]
    [InlineData("delete", "DELETE")]
    [InlineData("head", "HEAD")]
    [InlineData("options", "OPTIONS")]
    public async Task Each_operation_is_sent_as_its_http_verb(string operation, string verb)
    {
        using var client = _sidecar.CreateClient();

        var response = await client.InvokeBindingAsync(new BindingRequest("target", operation) { Data = Encoding.UTF8.GetBytes("x"), Metadata = { ["path"] = "/api/any/" + operation } });

        _target.RequestsTo("/api/any/" + operation).Should().ContainSingle().Which.Method.Should().Be(verb);
        response.Metadata["statusCode"].Should().Be("200");
        Encoding.UTF8.GetString(response.Data.Span).Should().Be(verb == "HEAD" ? "" : "done " + verb);
    }

    [Fact]
    public async Task A_500_from_the_target_is_an_output_binding_error_unless_errorIfNot2XX_is_false()
    {
        using var http = _sidecar.CreateHttpClient();
        using var client = _sidecar.CreateClient();

        using var failed = await http.InvokeBindingAsync("target", new { operation = "get", metadata = new { path = "/api/broken" } });
        var sdk = async () => await client.InvokeBindingAsync(new BindingRequest("target", "get") { Metadata = { ["path"] = "/api/broken" } });
        using var tolerated = await http.InvokeBindingAsync("target", new { operation = "get", metadata = new { path = "/api/broken", errorIfNot2XX = "false" } });

        var (status, code, message) = await failed.ErrorAsync();
        status.Should().Be(HttpStatusCode.InternalServerError);
        code.Should().Be("ERR_INVOKE_OUTPUT_BINDING");
        message.Should().Contain("received status code 500");
        (await sdk.Should().ThrowAsync<DaprException>()).Which.InnerException.Should().BeOfType<RpcException>()
            .Which.StatusCode.Should().Be(StatusCode.Internal);
        tolerated.StatusCode.Should().Be(HttpStatusCode.OK);
        tolerated.Headers.GetValues("metadata.statusCode").Should().Equal("500");
        (await tolerated.Content.ReadAsStringAsync()).Should().Be("boom");
    }

    [Fact]
    public async Task The_response_body_is_cut_at_maxResponseBodySize()
    {
        using var client = _sidecar.CreateClient();

        var response = await client.InvokeBindingAsync(new BindingRequest("tiny", "get") { Metadata = { ["path"] = "items" } });

        Encoding.UTF8.GetString(response.Data.Span).Should().Be("[\"b");
    }

    [Fact]
    public async Task An_unknown_binding_or_operation_is_an_output_binding_error()
    {
        using var http = _sidecar.CreateHttpClient();
        using var client = _sidecar.CreateClient();

        using var unknownBinding = await http.InvokeBindingAsync("nowhere", new { operation = "get" });
        using var unknownOperation = await http.InvokeBindingAsync("target", new { operation = "teleport" });
        var sdk = async () => await client.InvokeBindingAsync(new BindingRequest("target", "teleport"));

        var (status, code, message) = await unknownBinding.ErrorAsync();
        status.Should().Be(HttpStatusCode.InternalServerError);
        code.Should().Be("ERR_INVOKE_OUTPUT_BINDING");
        message.Should().Contain("nowhere");
        (status, code, message) = await unknownOperation.ErrorAsync();
        status.Should().Be(HttpStatusCode.InternalServerError);
        code.Should().Be("ERR_INVOKE_OUTPUT_BINDING");
        message.Should().Contain("teleport");
        await sdk.Should().ThrowAsync<DaprException>();
        _target.Requests.Should().NotContain(r => r.Method == "TELEPORT");
    }

    [Fact]
    public async Task An_operation_that_is_not_a_string_is_a_malformed_request_not_a_server_error()
    {
        using var http = _sidecar.CreateHttpClient();

        using var response = await http.InvokeBindingAsync("target", new { operation = 5 });

        var (status, code, _) = await response.ErrorAsync();
        status.Should().Be(HttpStatusCode.BadRequest);
        code.Should().Be("ERR_MALFORMED_REQUEST");
    }

    [Fact]
    public async Task A_target_slower_than_responseTimeout_is_an_output_binding_error()
    {
        using var http = _sidecar.CreateHttpClient();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        using var response = await http.InvokeBindingAsync("impatient", new { operation = "get", metadata = new { path = "slow" } });

        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(4));
        var (status, code, message) = await response.ErrorAsync();
        status.Should().Be(HttpStatusCode.InternalServerError);
        code.Should().Be("ERR_INVOKE_OUTPUT_BINDING");
        message.Should().Contain("responseTimeout");
    }
}
