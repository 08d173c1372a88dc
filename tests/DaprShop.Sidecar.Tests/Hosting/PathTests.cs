using System.Net;
using FluentAssertions;

namespace DaprShop.Sidecar.Tests.Hosting;

public sealed class PathTests
{
    [Fact]
    public async Task A_path_with_repeated_leading_slashes_is_served_as_daprd_serves_it()
    {
        // Dapr.Actors' proxy joins "http://host:port/" and "/v1.0/actors/...": daprd answers "//v1.0/..." as "/v1.0/...".
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().WithComponent("statestore", "state.in-memory");
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "slashes", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var http = sidecar.CreateHttpClient();

        var root = sidecar.HttpEndpoint.ToString().TrimEnd('/');

        var put = await http.PostAsync(new Uri(root + "//v1.0/state/statestore"),
            new StringContent("""[{"key":"k","value":"v"}]""", System.Text.Encoding.UTF8, "application/json"));
        var get = await http.GetAsync(new Uri(root + "///v1.0/state/statestore/k"));

        put.StatusCode.Should().Be(HttpStatusCode.NoContent);
        get.StatusCode.Should().Be(HttpStatusCode.OK);
        (await get.Content.ReadAsStringAsync()).Should().Be("\"v\"");
    }
}
