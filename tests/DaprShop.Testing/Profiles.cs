namespace DaprShop.Testing;

/// <summary>
/// A copy of a profile under <c>components/</c> (by default <c>default</c>) as it is, with its relative paths (resolved against the repository root when a
/// developer runs the shop) pointed into a test's own data folder, so a test never writes into the developer's
/// <c>.data/</c>. A path that is no longer where this expects it fails loudly: otherwise the shop would quietly write
/// into whatever folder the test runs in.
/// </summary>
public static partial class Profiles
{
    /// <summary>Writes the profile's resources into <paramref name="resourcesDirectory"/>, its data under <paramref name="dataDirectory"/>.</summary>
    public static void CopyTo(string resourcesDirectory, string dataDirectory, string outboxDirectory, string profile = "default")
    {
        var source = Path.Combine(Repo.Root, "components", profile);
        Directory.CreateDirectory(resourcesDirectory);
        Directory.CreateDirectory(dataDirectory);
        Directory.CreateDirectory(outboxDirectory);
        var relocated = new Dictionary<string, string>
        {
            [".data/outbox"] = outboxDirectory,
            [$"components/{profile}/secrets.json"] = Path.Combine(dataDirectory, "secrets.json"),
        };
        var found = new HashSet<string>();
        foreach (var file in Directory.GetFiles(source, "*.yaml"))
        {
            var yaml = File.ReadAllText(file);
            // The embedded default's databases, one per service (.data/<app>.db).
            yaml = Database().Replace(yaml, m =>
            {
                found.Add(".data/*.db");
                return $"\"{Path.Combine(dataDirectory, m.Groups[1].Value)}\"";
            });
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
        // The embedded default keeps its databases and its mail in files; a server profile has only its secrets here.
        var expected = profile == "default" ? [.. relocated.Keys, ".data/*.db"] : new[] { $"components/{profile}/secrets.json" };
        var missing = expected.Except(found).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException($"components/{profile} no longer names {string.Join(", ", missing)}: update Profiles' relocations");
        }
        File.Copy(Path.Combine(source, "secrets.json"), Path.Combine(dataDirectory, "secrets.json"), overwrite: true);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"""\.data/([\w\-]+\.db)""")]
    private static partial System.Text.RegularExpressions.Regex Database();
}
