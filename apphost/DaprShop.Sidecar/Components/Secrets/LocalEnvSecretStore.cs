using System.Collections;

namespace DaprShop.Sidecar.Components.Secrets;

/// <summary>
/// <c>secretstores.local.env</c>: each environment variable is a secret <c>{NAME: value}</c>. With <c>prefix</c>,
/// only variables starting with it are visible and the names are given without it (daprd strips it too).
/// A variable that is not set reads as an empty value, not an error, as in daprd.
/// </summary>
public sealed class LocalEnvSecretStore(ComponentContext context) : ISecretStore
{
    private readonly string _prefix = context.String("prefix", "");

    public IReadOnlyList<string> Capabilities { get; } = [];

    private static readonly StringComparison NameComparison = OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    // daprd hides its own settings (DAPR_*, APP_API_TOKEN); DAPRSHOP_* are this sidecar's own.
    private static bool IsAllowed(string name) =>
        !name.Equals("APP_API_TOKEN", StringComparison.OrdinalIgnoreCase)
        && !name.StartsWith("DAPR_", StringComparison.OrdinalIgnoreCase)
        && !name.StartsWith("DAPRSHOP_", StringComparison.OrdinalIgnoreCase);

    public Task<IReadOnlyDictionary<string, string>?> GetAsync(string name, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        var variable = _prefix + name;
        string value = "";
        if (IsAllowed(variable))
        {
            value = Environment.GetEnvironmentVariable(variable) ?? "";
        }
        else
        {
            context.Logger.LogWarning("Access to environment variable {Name} is forbidden", name);
        }
        return Task.FromResult<IReadOnlyDictionary<string, string>?>(new Dictionary<string, string> { [name] = value });
    }

    public Task<IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>> GetAllAsync(IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        var all = new SortedDictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            var key = (string)entry.Key;
            if (key.Length <= _prefix.Length || !key.StartsWith(_prefix, NameComparison) || !IsAllowed(key))
            {
                continue;
            }
            var name = key[_prefix.Length..];
            all[name] = new Dictionary<string, string> { [name] = (string?)entry.Value ?? "" };
        }
        return Task.FromResult<IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>>(all);
    }
}
