using System.Collections.Concurrent;
using System.Text.Json.Serialization;
using DaprShop.Sidecar.Hosting;

namespace DaprShop.Sidecar.Runtime;

/// <summary><c>/v1.0/metadata</c> and gRPC GetMetadata/SetMetadata: what this sidecar runs, in daprd's shape.</summary>
public sealed class MetadataApi(SidecarOptions options, ComponentHost components, Subscriptions subscriptions, SidecarState state, Actors.ActorRuntime actors, Workflows.WorkItemDispatcher workers, Resources.LoadedResources resources)
{
    public const string RuntimeVersion = "1.18.7-daprshop";
    private readonly ConcurrentDictionary<string, string> _extended = new(StringComparer.Ordinal);

    public void Set(string key, string value)
    {
        if (!string.IsNullOrEmpty(key))
        {
            _extended[key] = value;
        }
    }

    public MetadataResponse Get()
    {
        var extended = new Dictionary<string, string>(_extended) { ["daprRuntimeVersion"] = RuntimeVersion };
        return new MetadataResponse(
            options.AppId,
            RuntimeVersion,
            [.. resources.Configuration.Features.Order(StringComparer.Ordinal)],
            components.Loaded.Select(c => new ComponentMetadata(
                c.Resource.Name, c.Resource.Type, c.Resource.Version, NullIfEmpty(CapabilitiesOf(c.Resource.Name, c.Instance.Capabilities)))).ToList(),
            extended,
            subscriptions.Active.Select(a => new SubscriptionMetadata(
                a.Definition.PubSubName, a.Definition.Topic,
                a.Definition.Metadata.Count > 0 ? a.Definition.Metadata : null,
                a.Definition.Rules.Count > 0 || a.Definition.DefaultRoute is not null
                    ? [.. a.Definition.Rules.Select(r => new RuleMetadata(string.IsNullOrEmpty(r.Match) ? null : r.Match, r.Path)), .. DefaultRule(a.Definition.DefaultRoute)]
                    : null,
                a.Definition.DeadLetterTopic ?? "",
                a.Definition.Type)).ToList(),
            new AppConnection(
                options.AppPort ?? 0, options.AppProtocol, options.AppChannelAddress, options.AppMaxConcurrency > 0 ? options.AppMaxConcurrency : 0,
                options.EnableAppHealthCheck
                    ? new AppHealth(options.AppHealthCheckPath, Durations.ToGoString(options.AppHealthProbeInterval), Durations.ToGoString(options.AppHealthProbeTimeout), options.AppHealthThreshold)
                    : null),
            new ActorRuntimeMetadata(state.ActorRuntimeStatus, state.ActorHostReady,
                actors.Config.Entities.Select(t => new ActiveActors(t, actors.Active.Count(a => a.ActorType == t))).ToList()),
            new WorkflowsMetadata(workers.ConnectedWorkers));
    }

    private static IEnumerable<RuleMetadata> DefaultRule(string? path) => path is null ? [] : [new RuleMetadata(null, path)];

    /// <summary>
    /// daprd's capability list: the component's own, <c>INPUT_BINDING</c>/<c>OUTPUT_BINDING</c> for bindings, and
    /// <c>ACTOR</c> for every state store that has ETags and transactions (any of them could hold actors).
    /// </summary>
    private List<string> CapabilitiesOf(string name, IReadOnlyList<string> own)
    {
        var capabilities = new List<string>(own);
        if (components.InputBindings.ContainsKey(name))
        {
            capabilities.Add("INPUT_BINDING");
        }
        if (components.OutputBindings.ContainsKey(name))
        {
            capabilities.Add("OUTPUT_BINDING");
        }
        if (own.Contains("ETAG") && own.Contains("TRANSACTIONAL") && !own.Contains("ACTOR"))
        {
            capabilities.Add("ACTOR");
        }
        return capabilities;
    }

    private static List<string>? NullIfEmpty(List<string> list) => list.Count == 0 ? null : list;
}

public sealed record MetadataResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("runtimeVersion")] string RuntimeVersion,
    [property: JsonPropertyName("enabledFeatures")] IReadOnlyList<string> EnabledFeatures,
    [property: JsonPropertyName("components")] IReadOnlyList<ComponentMetadata> Components,
    [property: JsonPropertyName("extended")] IReadOnlyDictionary<string, string> Extended,
    [property: JsonPropertyName("subscriptions")] IReadOnlyList<SubscriptionMetadata> Subscriptions,
    [property: JsonPropertyName("appConnectionProperties")] AppConnection AppConnectionProperties,
    [property: JsonPropertyName("actorRuntime")] ActorRuntimeMetadata ActorRuntime,
    [property: JsonPropertyName("workflows")] WorkflowsMetadata Workflows);

/// <summary>daprd's <c>workflows</c> block: how many workflow workers (SDK streams) are connected; <c>{}</c> when none.</summary>
public sealed record WorkflowsMetadata(
    [property: JsonPropertyName("connectedWorkers"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] int ConnectedWorkers);

public sealed record ComponentMetadata(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("capabilities"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Capabilities);

public sealed record SubscriptionMetadata(
    [property: JsonPropertyName("pubsubname")] string PubSubName,
    [property: JsonPropertyName("topic")] string Topic,
    [property: JsonPropertyName("metadata"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string>? Metadata,
    [property: JsonPropertyName("rules"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<RuleMetadata>? Rules,
    [property: JsonPropertyName("deadLetterTopic")] string DeadLetterTopic,
    [property: JsonPropertyName("type")] string Type);

public sealed record RuleMetadata(
    [property: JsonPropertyName("match"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Match,
    [property: JsonPropertyName("path")] string Path);

public sealed record AppConnection(
    [property: JsonPropertyName("port")] int Port,
    [property: JsonPropertyName("protocol")] string Protocol,
    [property: JsonPropertyName("channelAddress")] string ChannelAddress,
    [property: JsonPropertyName("maxConcurrency")] int MaxConcurrency,
    [property: JsonPropertyName("health"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] AppHealth? Health);

public sealed record AppHealth(
    [property: JsonPropertyName("healthCheckPath")] string HealthCheckPath,
    [property: JsonPropertyName("healthProbeInterval")] string HealthProbeInterval,
    [property: JsonPropertyName("healthProbeTimeout")] string HealthProbeTimeout,
    [property: JsonPropertyName("healthThreshold")] int HealthThreshold);

public sealed record ActorRuntimeMetadata(
    [property: JsonPropertyName("runtimeStatus")] string RuntimeStatus,
    [property: JsonPropertyName("hostReady")] bool HostReady,
    [property: JsonPropertyName("activeActors")] IReadOnlyList<ActiveActors> ActiveActors);

public sealed record ActiveActors(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("count")] int Count);
