namespace DaprShop.Testing;

/// <summary>A local mesh of its own for one test: the folder where its sidecars find each other.</summary>
public sealed class TestMesh : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("daprshop-mesh-").FullName;

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
