using System.Net;
using Dapr;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DaprShop.Sidecar.Tests.Hosting;

public sealed class ApiTokenTests
{
    [Fact]
    public async Task With_a_dapr_api_token_calls_without_it_are_refused_and_health_stays_open()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().WithComponent("store", "state.in-memory");
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "secure", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, ApiToken = "s3cret" });
        using var anonymous = new HttpClient { BaseAddress = sidecar.HttpEndpoint };

        var refused = await anonymous.GetAsync("/v1.0/state/store/k");
        refused.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await refused.Content.ReadAsStringAsync()).Should().Contain("invalid api token");
        anonymous.DefaultRequestHeaders.Add("dapr-api-token", "wrong");
        (await anonymous.GetAsync("/v1.0/metadata")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await anonymous.GetAsync("/v1.0/healthz")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await anonymous.GetAsync("/v1.0/healthz/outbound")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        using var authorized = sidecar.CreateHttpClient();
        (await authorized.GetAsync("/v1.0/state/store/k")).StatusCode.Should().Be(HttpStatusCode.NoContent);

        using var sdk = sidecar.CreateClient();
        await sdk.SaveStateAsync("store", "k", 1);
        (await sdk.GetStateAsync<int>("store", "k")).Should().Be(1);

        using var wrongSdk = new Dapr.Client.DaprClientBuilder().UseGrpcEndpoint($"http://127.0.0.1:{sidecar.GrpcPort}").UseHttpEndpoint(sidecar.HttpEndpoint.ToString()).Build();
        var act = () => wrongSdk.GetStateAsync<int>("store", "k");
        (await act.Should().ThrowAsync<DaprException>()).Which.InnerException.Should().BeOfType<global::Grpc.Core.RpcException>()
            .Which.StatusCode.Should().Be(global::Grpc.Core.StatusCode.Unauthenticated);
    }

    [Fact]
    public async Task The_app_api_token_is_sent_to_the_app_and_the_callers_token_is_not_forwarded()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder();
        await using var app = await TestApp.StartAsync(a => a.MapGet("/whoami", () => Results.Ok()));
        await using var target = await SidecarProcess.StartAsync(new() { AppId = "target", AppPort = app.Port, ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppApiToken = "app-token" });
        await using var caller = await SidecarProcess.StartAsync(new() { AppId = "caller", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, ApiToken = "caller-token" });
        using var http = caller.CreateHttpClient();

        (await http.GetAsync("/v1.0/invoke/target/method/whoami")).StatusCode.Should().Be(HttpStatusCode.OK);

        app.RequestsTo("/whoami").Single().Headers["dapr-api-token"].Should().Be("app-token");
    }
}
