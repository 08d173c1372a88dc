using System.Net;
using FluentAssertions;

namespace DaprShop.Sidecar.Tests.Hosting;

/// <summary>daprd's HTTP server collapses repeated slashes; the .NET SDK's actor proxy depends on it.</summary>
public sealed class PathNormalizationTests
{
    [Fact]
    public async Task Repeated_slashes_in_an_api_path_are_collapsed_as_daprd_does()
    {
        using var mesh = new TestMesh();
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "slashes", MeshDirectory = mesh.Directory, WaitForApp = false });
        using var http = sidecar.CreateHttpClient();

        // Absolute: a relative "//v1.0" would read as a host name.
        (await http.GetAsync($"http://127.0.0.1:{sidecar.HttpPort}//v1.0/healthz/outbound")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        var metadata = await http.GetAsync("/v1.0//metadata");
        metadata.StatusCode.Should().Be(HttpStatusCode.OK);
        (await metadata.Content.ReadAsStringAsync()).Should().Contain("\"slashes\"");
    }
}
