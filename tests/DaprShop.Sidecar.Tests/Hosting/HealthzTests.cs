using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;

namespace DaprShop.Sidecar.Tests.Hosting;

public sealed class HealthzTests
{
    [Fact]
    public async Task Healthz_with_another_app_id_is_refused_as_daprd_refuses_it()
    {
        using var mesh = new TestMesh();
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "probed", MeshDirectory = mesh.Directory });
        using var http = sidecar.CreateHttpClient();

        (await http.GetAsync("/v1.0/healthz?appid=probed")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        using var other = await http.GetAsync("/v1.0/healthz?appid=someone-else");

        other.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        var error = await other.Content.ReadFromJsonAsync<JsonElement>();
        error.GetProperty("errorCode").GetString().Should().Be("ERR_HEALTH_APPID_NOT_MATCH");
        error.GetProperty("message").GetString().Should().Be("dapr app-id does not match");
    }
}
