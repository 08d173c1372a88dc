using Dapr.DurableTask.Protobuf;

namespace DaprShop.Sidecar.Configuration;

/// <summary>The parts of a <c>kind: Configuration</c> file that the sidecar acts on.</summary>
public sealed record SidecarConfiguration(
    double SamplingRate,
    string? OtelEndpoint,
    AccessControl? AccessControl,
    IReadOnlySet<string> Features,
    IReadOnlyList<ApiRule> AllowedApis,
    IReadOnlyList<ApiRule> DeniedApis)
{
    public static readonly SidecarConfiguration Default = new(1.0, null, null, new HashSet<string>(), [], []);

    /// <summary><c>spec.workflow.stateRetentionPolicy</c>: how long a finished workflow instance is kept before it is purged.</summary>
    public WorkflowRetentionPolicy? WorkflowRetention { get; init; }

    /// <summary><c>spec.secrets.scopes</c> by store name: which secrets the app may read through the secrets API.</summary>
    public IReadOnlyDictionary<string, SecretScope> SecretScopes { get; init; } = new Dictionary<string, SecretScope>();

    /// <summary>Whether the app may read <paramref name="key"/> from <paramref name="store"/> (a store without a scope allows every key).</summary>
    public bool IsSecretAllowed(string store, string key) => !SecretScopes.TryGetValue(store, out var scope) || scope.Allows(key);

    /// <summary>daprd's <c>api.allowed</c>/<c>api.denied</c>: with an allow list only those APIs answer; a deny list removes some.</summary>
    public bool IsApiAllowed(string name, string version, string protocol)
    {
        static bool Matches(ApiRule r, string name, string version, string protocol) =>
            string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase)
            && (string.IsNullOrEmpty(r.Version) || string.Equals(r.Version, version, StringComparison.OrdinalIgnoreCase))
            && (string.IsNullOrEmpty(r.Protocol) || string.Equals(r.Protocol, protocol, StringComparison.OrdinalIgnoreCase));

        if (AllowedApis.Count > 0 && !AllowedApis.Any(r => Matches(r, name, version, protocol)))
        {
            return false;
        }
        return !DeniedApis.Any(r => Matches(r, name, version, protocol));
    }
}

/// <summary>
/// One store's secret scope, with daprd's precedence: a non-empty <c>allowedSecrets</c> list alone decides; otherwise a
/// key in <c>deniedSecrets</c> is refused, and any other key follows <c>defaultAccess</c> (allow unless "deny").
/// </summary>
public sealed record SecretScope(bool DefaultAllow, IReadOnlySet<string> AllowedSecrets, IReadOnlySet<string> DeniedSecrets)
{
    public bool Allows(string key) =>
        AllowedSecrets.Count > 0 ? AllowedSecrets.Contains(key) : !DeniedSecrets.Contains(key) && DefaultAllow;
}

public sealed record ApiRule(string Name, string? Version, string? Protocol);

public sealed record AccessControl(string DefaultAction, IReadOnlyList<AccessPolicy> Policies)
{
    /// <summary>Whether <paramref name="callerAppId"/> may call <paramref name="method"/> with <paramref name="verb"/> on this app.</summary>
    public bool Allows(string? callerAppId, string method, string verb)
    {
        var policy = Policies.FirstOrDefault(p => string.Equals(p.AppId, callerAppId, StringComparison.Ordinal));
        if (policy is null)
        {
            return IsAllow(DefaultAction);
        }
        var path = "/" + method.TrimStart('/');
        foreach (var op in policy.Operations)
        {
            if (OperationMatches(op.Name, path) && (op.HttpVerbs.Count == 0 || op.HttpVerbs.Contains("*") || op.HttpVerbs.Contains(verb, StringComparer.OrdinalIgnoreCase)))
            {
                return IsAllow(op.Action);
            }
        }
        return IsAllow(policy.DefaultAction);
    }

    // Dapr's operation names are paths with "*" for one segment and "**" for any rest.
    private static bool OperationMatches(string pattern, string path)
    {
        var p = pattern.Trim('/').Split('/');
        var s = path.Trim('/').Split('/');
        for (var i = 0; i < p.Length; i++)
        {
            if (p[i] == "**")
            {
                return true;
            }
            if (i >= s.Length || (p[i] != "*" && !string.Equals(p[i], s[i], StringComparison.Ordinal)))
            {
                return false;
            }
        }
        return p.Length == s.Length;
    }

    private static bool IsAllow(string action) => string.Equals(action, "allow", StringComparison.OrdinalIgnoreCase);
}

public sealed record AccessPolicy(string AppId, string DefaultAction, IReadOnlyList<AccessOperation> Operations);

public sealed record AccessOperation(string Name, IReadOnlyList<string> HttpVerbs, string Action);

/// <summary>
/// daprd's workflow state retention: per terminal status, and <c>anyTerminal</c> for a status not named; null keeps
/// the instance for ever. Applies to instances that finish while the policy is in effect.
/// </summary>
public sealed record WorkflowRetentionPolicy(TimeSpan? AnyTerminal, TimeSpan? Completed, TimeSpan? Failed, TimeSpan? Terminated)
{
    public TimeSpan? For(OrchestrationStatus status) => status switch
    {
        OrchestrationStatus.Completed => Completed,
        OrchestrationStatus.Failed => Failed,
        OrchestrationStatus.Terminated => Terminated,
        _ => null,
    } ?? AnyTerminal;
}
