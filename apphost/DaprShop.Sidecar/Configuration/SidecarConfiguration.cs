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

    /// <summary><c>spec.metrics.enabled</c> (default true): false turns the sidecar's metrics off, as in daprd.</summary>
    public bool MetricsEnabled { get; init; } = true;

    /// <summary><c>spec.workflow.stateRetentionPolicy</c>: how long a finished workflow instance is kept before it is purged.</summary>
    public WorkflowRetentionPolicy? WorkflowRetention { get; init; }

    /// <summary><c>spec.secrets.scopes</c> by store name: which secrets the app may read through the secrets API.</summary>
    public IReadOnlyDictionary<string, SecretScope> SecretScopes { get; init; } = new Dictionary<string, SecretScope>();

    /// <summary>Whether the app may read <paramref name="key"/> from <paramref name="store"/> (a store without a scope allows every key).</summary>
    public bool IsSecretAllowed(string store, string key) => !SecretScopes.TryGetValue(store, out var scope) || scope.Allows(key);

    /// <summary>
    /// daprd's <c>api.allowed</c>/<c>api.denied</c> for the HTTP API, from the rules whose protocol is <c>http</c>: a
    /// route is allowed unless a deny rule matches it, and, when there are allow rules, only if one matches it. A rule
    /// matches as daprd matches it: by the path's version and the start of the route (<c>v1.0</c> + <c>state</c>), or by
    /// API group and group version (<c>state</c> + <c>v1</c> for <c>/v1.0/state/...</c>, <c>v1alpha1</c> for <c>v1.0-alpha1</c>).
    /// </summary>
    public bool IsHttpApiAllowed(string version, string route)
    {
        var group = route.Split('/', 2)[0];
        return IsAllowed("http", r =>
            (r.Version == version && route.StartsWith(r.Name, StringComparison.Ordinal)) || (PathVersion(r.Version) == version && r.Name == group));
    }

    /// <summary>
    /// The same lists for the gRPC API, from the rules whose protocol is <c>grpc</c>: each names a group of methods of
    /// <c>dapr.proto.runtime.v1.Dapr</c> (<see cref="GrpcApiGroups"/>, daprd's table); other services are never filtered.
    /// </summary>
    public bool IsGrpcMethodAllowed(string fullMethod)
    {
        if (!fullMethod.StartsWith("/dapr.proto.runtime.", StringComparison.Ordinal))
        {
            return true;
        }
        var method = fullMethod[(fullMethod.LastIndexOf('/') + 1)..];
        return IsAllowed("grpc", r => GrpcApiGroups.TryGetValue($"{r.Name}.{r.Version}", out var methods) && methods.Contains(method));
    }

    // Only the protocol's own rules count: an allow list of gRPC rules restricts nothing over HTTP, as in daprd.
    private bool IsAllowed(string protocol, Func<ApiRule, bool> matches) =>
        !DeniedApis.Any(r => r.Protocol == protocol && matches(r))
        && (!AllowedApis.Any(r => r.Protocol == protocol) || AllowedApis.Any(r => r.Protocol == protocol && matches(r)));

    /// <summary>An HTTP API group version as it appears in the path (<c>v1</c> → <c>v1.0</c>, <c>v1alpha1</c> → <c>v1.0-alpha1</c>).</summary>
    private static string PathVersion(string groupVersion) =>
        groupVersion.StartsWith("v1", StringComparison.Ordinal) && groupVersion.Length > 2 ? $"v1.0-{groupVersion[2..]}"
        : groupVersion == "v1" ? "v1.0"
        : groupVersion;

    /// <summary>daprd's grouping of the gRPC API's methods for <c>api.allowed</c>/<c>api.denied</c>, by <c>name.version</c>.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlySet<string>> GrpcApiGroups = new Dictionary<string, string[]>
    {
        ["invoke.v1"] = ["InvokeService"],
        ["state.v1"] = ["GetState", "GetBulkState", "SaveState", "DeleteState", "DeleteBulkState", "ExecuteStateTransaction"],
        ["state.v1alpha1"] = ["QueryStateAlpha1"],
        ["publish.v1"] = ["PublishEvent", "BulkPublishEvent"],
        ["publish.v1alpha1"] = ["BulkPublishEventAlpha1"],
        ["subscribe.v1alpha1"] = ["SubscribeTopicEventsAlpha1"],
        ["bindings.v1"] = ["InvokeBinding"],
        ["secrets.v1"] = ["GetSecret", "GetBulkSecret"],
        ["actors.v1"] =
        [
            "RegisterActorTimer", "UnregisterActorTimer", "RegisterActorReminder", "GetActorReminder", "UnregisterActorReminder",
            "UnregisterActorRemindersByType", "ListActorReminders", "GetActorState", "ExecuteActorStateTransaction", "InvokeActor",
        ],
        ["actors.v1alpha1"] = ["SubscribeActorEventsAlpha1"],
        ["metadata.v1"] = ["GetMetadata", "SetMetadata"],
        ["configuration.v1alpha1"] = ["GetConfigurationAlpha1", "SubscribeConfigurationAlpha1", "UnsubscribeConfigurationAlpha1"],
        ["configuration.v1"] = ["GetConfiguration", "SubscribeConfiguration", "UnsubscribeConfiguration"],
        ["lock.v1alpha1"] = ["TryLockAlpha1"],
        ["unlock.v1alpha1"] = ["UnlockAlpha1"],
        ["subtlecrypto.v1alpha1"] = ["SubtleGetKeyAlpha1", "SubtleEncryptAlpha1", "SubtleDecryptAlpha1", "SubtleSignAlpha1", "SubtleVerifyAlpha1", "SubtleWrapKeyAlpha1", "SubtleUnwrapKeyAlpha1"],
        ["crypto.v1alpha1"] = ["EncryptAlpha1", "DecryptAlpha1"],
        ["workflows.v1alpha1"] = ["StartWorkflowAlpha1", "GetWorkflowAlpha1", "TerminateWorkflowAlpha1", "RaiseEventWorkflowAlpha1", "PurgeWorkflowAlpha1", "PauseWorkflowAlpha1", "ResumeWorkflowAlpha1"],
        ["workflows.v1beta1"] = ["StartWorkflowBeta1", "GetWorkflowBeta1", "TerminateWorkflowBeta1", "RaiseEventWorkflowBeta1", "PurgeWorkflowBeta1", "PauseWorkflowBeta1", "ResumeWorkflowBeta1"],
        ["jobs.v1alpha1"] = ["ScheduleJobAlpha1", "DeleteJobAlpha1", "GetJobAlpha1", "DeleteJobsByPrefixAlpha1", "ListJobsAlpha1"],
        ["jobs.v1"] = ["ScheduleJob", "DeleteJob", "GetJob", "DeleteJobsByPrefix", "ListJobs"],
        ["shutdown.v1"] = ["Shutdown"],
        ["conversation.v1alpha1"] = ["ConverseAlpha1"],
        ["conversation.v1alpha2"] = ["ConverseAlpha2"],
    }.ToDictionary(g => g.Key, g => (IReadOnlySet<string>)g.Value.ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
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

/// <summary>One <c>api.allowed</c>/<c>api.denied</c> entry; the protocol is <c>http</c> or <c>grpc</c>.</summary>
public sealed record ApiRule(string Name, string Version, string Protocol);

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
