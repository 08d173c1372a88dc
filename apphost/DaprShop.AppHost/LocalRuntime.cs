namespace DaprShop.AppHost;

/// <summary>
/// .NET runtime settings for the services this AppHost starts on a developer's machine (docs/apphost.md).
/// </summary>
public static class LocalRuntime
{
    /// <summary>
    /// W^X (write-xor-execute) maps every page of JIT-compiled code twice, once writable and once executable. On the
    /// two-core virtual machines this project is measured on, turning it off cut the shop's CPU per checkout by about a
    /// sixth (docs/benchmarks.md). The mesh runs on loopback on the developer's own machine, so the local run turns it
    /// off; the services' builds keep .NET's default, and a deployment decides for itself. The sidecar turns it off in
    /// its own runtimeconfig: it only ever runs where daprd, which has no JIT, is not installed.
    /// </summary>
    public const string WriteXorExecuteVariable = "DOTNET_EnableWriteXorExecute";

    public const string WriteXorExecuteOff = "0";
}
