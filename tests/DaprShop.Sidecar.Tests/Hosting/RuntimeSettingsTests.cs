using FluentAssertions;

namespace DaprShop.Sidecar.Tests.Hosting;

/// <summary>The sidecar's .NET runtime settings, as its runtimeconfig gives them (docs/sidecar.md).</summary>
public sealed class RuntimeSettingsTests
{
    [Fact]
    public async Task The_sidecar_runs_with_write_xor_execute_off_unless_its_environment_turns_it_back_on()
    {
        using var mesh = new TestMesh();
        await using var plain = await SidecarProcess.StartAsync(new() { AppId = "wx-default", MeshDirectory = mesh.Directory });
        await using var hardened = await SidecarProcess.StartAsync(new()
        {
            AppId = "wx-on",
            MeshDirectory = mesh.Directory,
            Environment = new Dictionary<string, string> { [CodeMappings.WriteXorExecuteVariable] = "1" },
        });

        CodeMappings.WriteXorExecuteIsOn(plain.Pid).Should().BeFalse("the sidecar's runtimeconfig turns W^X off");
        CodeMappings.WriteXorExecuteIsOn(hardened.Pid).Should().BeTrue("the environment wins over the runtimeconfig, so an operator can turn it back on");
    }
}
