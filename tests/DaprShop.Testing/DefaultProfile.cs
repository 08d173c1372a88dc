namespace DaprShop.Testing;

/// <summary>
/// A copy of <c>components/default</c> as it is, with its relative paths (resolved against the repository root when a
/// developer runs the shop) pointed into a test's own data folder, so a test never writes into the developer's
/// <c>.data/</c>. A path that is no longer where this expects it fails loudly: otherwise the shop would quietly write
/// into whatever folder the test runs in.
/// </summary>
public static class DefaultProfile
{
    public static string Source { get; } = Path.Combine(Repo.Root, "components", "default");

    /// <summary>Writes the profile's resources into <paramref name="resourcesDirectory"/>, its data under <paramref name="dataDirectory"/>.</summary>
    public static void CopyTo(string resourcesDirectory, string dataDirectory, string outboxDirectory)
    {
        Directory.CreateDirectory(resourcesDirectory);
        Directory.CreateDirectory(dataDirectory);
        Directory.CreateDirectory(outboxDirectory);
        var relocated = new Dictionary<string, string>
        {
            [".data/daprshop.db"] = Path.Combine(dataDirectory, "daprshop.db"),
            [".data/outbox"] = outboxDirectory,
            ["components/default/secrets.json"] = Path.Combine(dataDirectory, "secrets.json"),
        };
        var found = new HashSet<string>();
        foreach (var file in Directory.GetFiles(Source, "*.yaml"))
        {
            var yaml = File.ReadAllText(file);
            foreach (var (relative, absolute) in relocated)
            {
                var quoted = $"\"{relative}\"";
                if (yaml.Contains(quoted, StringComparison.Ordinal))
                {
                    yaml = yaml.Replace(quoted, $"\"{absolute}\"", StringComparison.Ordinal);
                    found.Add(relative);
                }
            }
            File.WriteAllText(Path.Combine(resourcesDirectory, Path.GetFileName(file)), yaml);
        }
        var missing = relocated.Keys.Except(found).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException($"components/default no longer names {string.Join(", ", missing)}: update DefaultProfile's relocations");
        }
        File.Copy(Path.Combine(Source, "secrets.json"), Path.Combine(dataDirectory, "secrets.json"), overwrite: true);
    }
}
