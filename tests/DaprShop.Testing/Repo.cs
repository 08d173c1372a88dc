namespace DaprShop.Testing;

public static class Repo
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DaprShop.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("DaprShop.sln not found above " + AppContext.BaseDirectory);
    }

#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif

    /// <summary>The sidecar's entry assembly, built by the project reference.</summary>
    public static string SidecarDll { get; } = Path.Combine(Root, "apphost", "DaprShop.Sidecar", "bin", Configuration, "net10.0", "daprshop-sidecar.dll");
}
