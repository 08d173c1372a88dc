using Dapr.Client;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;

namespace DaprShop.Sidecar.Tests.State;

public sealed class SdkSmokeTests
{
    private sealed record Widget(string Name, int Count);

    [Fact]
    public async Task The_official_sdk_saves_and_reads_state_over_grpc()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().WithComponent("store", "state.in-memory");
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "smoke", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var client = sidecar.CreateClient();

        await client.SaveStateAsync("store", "w1", new Widget("bolt", 3));
        var (value, etag) = await client.GetStateAndETagAsync<Widget>("store", "w1");

        value.Should().Be(new Widget("bolt", 3));
        etag.Should().NotBeNullOrEmpty();
        (await client.TrySaveStateAsync("store", "w1", new Widget("nut", 1), "not-the-etag")).Should().BeFalse();
        (await client.TrySaveStateAsync("store", "w1", new Widget("nut", 1), etag)).Should().BeTrue();
        (await client.GetStateAsync<Widget>("store", "w1")).Should().Be(new Widget("nut", 1));
        await client.WaitForSidecarAsync();
    }
}
