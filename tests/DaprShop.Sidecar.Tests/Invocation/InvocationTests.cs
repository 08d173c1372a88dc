using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DaprShop.Sidecar.Tests.Invocation;

public sealed class InvocationTests
{
    private sealed record Echo(string Method, string Path, string Query, string Body, string? Caller, string? Custom, string? ContentType);

    private static Action<WebApplication> EchoApp() => a => a.Map("/{**path}", async (HttpContext c) =>
    {
        using var reader = new StreamReader(c.Request.Body);
        var body = await reader.ReadToEndAsync();
        c.Response.Headers["x-answered-by"] = "echo";
        return Results.Json(new Echo(c.Request.Method, c.Request.Path, c.Request.QueryString.Value ?? "", body,
            c.Request.Headers["dapr-caller-app-id"], c.Request.Headers["x-custom"], c.Request.ContentType), statusCode: c.Request.Path == "/teapot" ? 418 : 200);
    });

    /// <summary>An echo app under app id "catalog" with its sidecar, and a caller sidecar "storefront", in a mesh of their own.</summary>
    private sealed class TwoApps : IAsyncDisposable
    {
        private readonly TestMesh _mesh = new();
        private readonly ResourcesFolder _resources = new();

        public TestApp App { get; private set; } = null!;
        public SidecarProcess Target { get; private set; } = null!;
        public SidecarProcess Caller { get; private set; } = null!;

        public static async Task<TwoApps> StartAsync(string? configPath = null)
        {
            var apps = new TwoApps();
            apps.App = await TestApp.StartAsync(EchoApp());
            apps.Target = await SidecarProcess.StartAsync(new() { AppId = "catalog", AppPort = apps.App.Port, ResourcesPaths = [apps._resources.Path], MeshDirectory = apps._mesh.Directory, ConfigPath = configPath });
            apps.Caller = await SidecarProcess.StartAsync(new() { AppId = "storefront", ResourcesPaths = [apps._resources.Path], MeshDirectory = apps._mesh.Directory });
            return apps;
        }

        public async ValueTask DisposeAsync()
        {
            await Caller.DisposeAsync();
            await Target.DisposeAsync();
            await App.DisposeAsync();
            _resources.Dispose();
            _mesh.Dispose();
        }
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    public async Task Every_verb_reaches_the_other_app_with_path_query_headers_and_body(string verb)
    {
        await using var apps = await TwoApps.StartAsync();
        var caller = apps.Caller;
        using var http = caller.CreateHttpClient();

        using var request = new HttpRequestMessage(new HttpMethod(verb), "/v1.0/invoke/catalog/method/products/42?expand=true&x=1");
        request.Headers.Add("x-custom", "yes");
        request.Headers.Add("dapr-caller-app-id", "spoofed");
        if (verb != "GET")
        {
            request.Content = new StringContent("""{"name":"lamp"}""", Encoding.UTF8, "application/json");
        }
        using var response = await http.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Headers.GetValues("x-answered-by").Should().Equal("echo");
        var echo = (await response.Content.ReadFromJsonAsync<Echo>())!;
        echo.Method.Should().Be(verb);
        echo.Path.Should().Be("/products/42");
        echo.Query.Should().Be("?expand=true&x=1");
        echo.Custom.Should().Be("yes");
        echo.Caller.Should().Be("storefront", "the sidecar sets the caller's identity and ignores a spoofed one");
        if (verb != "GET")
        {
            echo.Body.Should().Be("""{"name":"lamp"}""");
            echo.ContentType.Should().StartWith("application/json");
        }
    }

    [Fact]
    public async Task The_apps_status_code_comes_back_unchanged_and_the_header_form_works_too()
    {
        await using var apps = await TwoApps.StartAsync();
        var caller = apps.Caller;
        using var http = caller.CreateHttpClient();

        (await http.GetAsync("/v1.0/invoke/catalog/method/teapot")).StatusCode.Should().Be((HttpStatusCode)418);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/orders/7") { Content = new StringContent("hi") };
        request.Headers.Add("dapr-app-id", "catalog");
        using var response = await http.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadFromJsonAsync<Echo>())!.Path.Should().Be("/orders/7");

        using var fileLike = new HttpRequestMessage(HttpMethod.Get, "/openapi/v1.json");
        fileLike.Headers.Add("dapr-app-id", "catalog");
        using var document = await http.SendAsync(fileLike);
        document.StatusCode.Should().Be(HttpStatusCode.OK, "a method whose last segment has a dot is a method, not a missing file");
        (await document.Content.ReadFromJsonAsync<Echo>())!.Path.Should().Be("/openapi/v1.json");
    }

    [Fact]
    public async Task The_official_sdk_invokes_methods_over_http_and_grpc()
    {
        await using var apps = await TwoApps.StartAsync();
        var caller = apps.Caller;
        using var client = caller.CreateClient();

#pragma warning disable CS0618 // still the most used way of invoking in Dapr's .NET SDK; the sidecar must serve it
        var viaHttp = await client.InvokeMethodAsync<object, Echo>(HttpMethod.Post, "catalog", "basket/add", new { sku = "A1" });
#pragma warning restore CS0618
        viaHttp.Path.Should().Be("/basket/add");
        viaHttp.Body.Should().Contain("A1");

        var invoker = Dapr.Client.DaprClient.CreateInvokeHttpClient("catalog", $"http://127.0.0.1:{caller.HttpPort}");
        var viaFactory = await invoker.GetFromJsonAsync<Echo>("/health/ready");
        viaFactory!.Path.Should().Be("/health/ready");
    }

    [Fact]
    public async Task Calls_spread_round_robin_over_the_replicas_of_an_app()
    {
        await using var replicas = await TwoReplicas.StartAsync();
        var (app1, app2, replica2) = (replicas.App1, replicas.App2, replicas.Replica2);
        using var http = replicas.Caller.CreateHttpClient();

        for (var i = 0; i < 10; i++)
        {
            (await http.GetAsync($"/v1.0/invoke/basket/method/items/{i}")).EnsureSuccessStatusCode();
        }

        app1.Requests.Count(r => r.Path.StartsWith("/items/", StringComparison.Ordinal)).Should().Be(5);
        app2.Requests.Count(r => r.Path.StartsWith("/items/", StringComparison.Ordinal)).Should().Be(5);
    }

    [Fact]
    public async Task A_replica_that_died_is_skipped()
    {
        await using var replicas = await TwoReplicas.StartAsync();
        var (app1, app2, replica2) = (replicas.App1, replicas.App2, replicas.Replica2);
        using var http = replicas.Caller.CreateHttpClient();
        (await http.GetAsync("/v1.0/invoke/basket/method/warm")).EnsureSuccessStatusCode();

        replica2.Kill();
        for (var i = 0; i < 6; i++)
        {
            (await http.GetAsync($"/v1.0/invoke/basket/method/after/{i}")).StatusCode.Should().Be(HttpStatusCode.OK);
        }
        app1.Requests.Count(r => r.Path.StartsWith("/after", StringComparison.Ordinal)).Should().Be(6);
    }

    [Fact]
    public async Task Invoking_an_unknown_app_is_a_dapr_error()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder();
        await using var caller = await SidecarProcess.StartAsync(new() { AppId = "lonely", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var http = caller.CreateHttpClient();

        var response = await http.GetAsync("/v1.0/invoke/nobody/method/x");

        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();
        error.GetProperty("errorCode").GetString().Should().Be("ERR_DIRECT_INVOKE");
        error.GetProperty("message").GetString().Should().Contain("nobody");
    }

    [Fact]
    public async Task The_trace_continues_into_the_called_app()
    {
        await using var apps = await TwoApps.StartAsync();
        var (app, caller) = (apps.App, apps.Caller);
        using var http = caller.CreateHttpClient();

        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1.0/invoke/catalog/method/traced");
        request.Headers.Add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        (await http.SendAsync(request)).EnsureSuccessStatusCode();

        var received = app.RequestsTo("/traced").Single();
        received.Headers["traceparent"].Should().StartWith("00-4bf92f3577b34da6a3ce929d0e0e4736-").And.NotContain("00f067aa0ba902b7", "each hop adds its own span");
    }

    [Fact]
    public async Task Access_control_lets_allowed_callers_through_and_refuses_the_others()
    {
        var config = Path.Combine(Path.GetTempPath(), $"daprshop-config-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(config, """
            apiVersion: dapr.io/v1alpha1
            kind: Configuration
            metadata:
              name: acl
            spec:
              accessControl:
                defaultAction: deny
                policies:
                - appId: storefront
                  defaultAction: deny
                  operations:
                  - name: /products/**
                    httpVerb: ['GET']
                    action: allow
            """);
        try
        {
            await using var apps = await TwoApps.StartAsync(config);
            var (app, caller) = (apps.App, apps.Caller);
            using var http = caller.CreateHttpClient();

            (await http.GetAsync("/v1.0/invoke/catalog/method/products/1")).StatusCode.Should().Be(HttpStatusCode.OK);
            var denied = await http.DeleteAsync("/v1.0/invoke/catalog/method/products/1");
            denied.StatusCode.Should().Be(HttpStatusCode.Forbidden);
            (await denied.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errorCode").GetString().Should().Be("ERR_DIRECT_INVOKE");
            (await http.GetAsync("/v1.0/invoke/catalog/method/admin")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
            app.RequestsTo("/admin").Should().BeEmpty();
        }
        finally
        {
            File.Delete(config);
        }
    }

    /// <summary>Two replicas of app "basket", each with its own echo app and sidecar, and a caller sidecar.</summary>
    private sealed class TwoReplicas : IAsyncDisposable
    {
        private readonly TestMesh _mesh = new();
        private readonly ResourcesFolder _resources = new();

        public TestApp App1 { get; private set; } = null!;
        public TestApp App2 { get; private set; } = null!;
        public SidecarProcess Replica1 { get; private set; } = null!;
        public SidecarProcess Replica2 { get; private set; } = null!;
        public SidecarProcess Caller { get; private set; } = null!;

        public static async Task<TwoReplicas> StartAsync()
        {
            var r = new TwoReplicas();
            r.App1 = await TestApp.StartAsync(EchoApp());
            r.App2 = await TestApp.StartAsync(EchoApp());
            r.Replica1 = await SidecarProcess.StartAsync(new() { AppId = "basket", AppPort = r.App1.Port, ResourcesPaths = [r._resources.Path], MeshDirectory = r._mesh.Directory });
            r.Replica2 = await SidecarProcess.StartAsync(new() { AppId = "basket", AppPort = r.App2.Port, ResourcesPaths = [r._resources.Path], MeshDirectory = r._mesh.Directory });
            r.Caller = await SidecarProcess.StartAsync(new() { AppId = "gateway", ResourcesPaths = [r._resources.Path], MeshDirectory = r._mesh.Directory });
            return r;
        }

        public async ValueTask DisposeAsync()
        {
            await Caller.DisposeAsync();
            await Replica1.DisposeAsync();
            await Replica2.DisposeAsync();
            await App1.DisposeAsync();
            await App2.DisposeAsync();
            _resources.Dispose();
            _mesh.Dispose();
        }
    }
}
