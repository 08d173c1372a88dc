namespace DaprShop.Testing;

/// <summary>A temporary folder of Dapr resource files for one test's sidecars.</summary>
public sealed class ResourcesFolder : IDisposable
{
    public ResourcesFolder()
    {
        Path = Directory.CreateTempSubdirectory("daprshop-res-").FullName;
    }

    public string Path { get; }

    public ResourcesFolder With(string fileName, string yaml)
    {
        File.WriteAllText(System.IO.Path.Combine(Path, fileName), yaml);
        return this;
    }

    public ResourcesFolder WithComponent(string name, string type, params (string Name, string Value)[] metadata)
    {
        var items = metadata.Length == 0
            ? ""
            : "  metadata:\n" + string.Join("", metadata.Select(m => $"  - name: {m.Name}\n    value: \"{m.Value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"\n"));
        return With($"{name}.yaml", $"""
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: {name}
            spec:
              type: {type}
              version: v1
            {items}
            """);
    }

    /// <summary>A Resiliency resource (<c>resiliency.yaml</c>) whose <c>spec</c> is <paramref name="spec"/> (policies and targets, unindented).</summary>
    public ResourcesFolder WithResiliency(string spec)
    {
        var indented = string.Join("\n", spec.Split('\n').Select(line => line.Length == 0 ? line : "  " + line));
        return With("resiliency.yaml", $"apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata:\n  name: resiliency\nspec:\n{indented}\n");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
