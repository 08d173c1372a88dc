namespace DaprShop.Sidecar.Resources;

/// <summary>Where a resource came from, so that every error can name the file and the resource.</summary>
public sealed record ResourceOrigin(string File, string Kind, string Name)
{
    public override string ToString() => $"{Kind} '{Name}' in {File}";
}

/// <summary>One <c>spec.metadata</c> entry before secrets and environment references are resolved.</summary>
public sealed record MetadataItem(string Name, string? Value, SecretKeyRef? SecretKeyRef, string? EnvRef);

public sealed record SecretKeyRef(string Name, string Key);

/// <summary>A <c>kind: Component</c> resource as written in YAML.</summary>
public sealed record ComponentResource(
    ResourceOrigin Origin,
    string Name,
    string Type,
    string Version,
    bool IgnoreErrors,
    IReadOnlyList<MetadataItem> Metadata,
    IReadOnlyList<string> Scopes,
    string? SecretStore)
{
    /// <summary>The building block: "state", "pubsub", "bindings", "secretstores", ...</summary>
    public string Category => Type.Split('.', 2)[0];

    public bool IsInScope(string appId) => Scopes.Count == 0 || Scopes.Contains(appId, StringComparer.Ordinal);
}

/// <summary>A routing rule of a subscription: a CEL-like expression and the app path it sends to.</summary>
public sealed record RouteRule(string? Match, string Path);

/// <summary>A subscription, declarative (YAML) or programmatic (<c>GET /dapr/subscribe</c>).</summary>
public sealed record SubscriptionDefinition(
    string PubSubName,
    string Topic,
    IReadOnlyList<RouteRule> Rules,
    string? DefaultRoute,
    string? DeadLetterTopic,
    IReadOnlyDictionary<string, string> Metadata,
    BulkSubscribeOptions? Bulk,
    string Type,
    string? Name = null)
{
    public bool RawPayload => RawPayloadMetadata.TryRead(Metadata, out var raw) && raw;
}

/// <summary>
/// daprd's <c>rawPayload</c> metadata, on a publish or a subscription alike, read as Go's <c>strconv.ParseBool</c> reads
/// it: 1, t, T, TRUE, true, True and the false forms; absent or empty is false.
/// </summary>
public static class RawPayloadMetadata
{
    /// <summary>False when the value is not one Go reads as a boolean.</summary>
    public static bool TryRead(IReadOnlyDictionary<string, string> metadata, out bool raw)
    {
        raw = false;
        if (!metadata.TryGetValue("rawPayload", out var text) || text.Length == 0)
        {
            return true;
        }
        switch (text)
        {
            case "1" or "t" or "T" or "TRUE" or "true" or "True":
                raw = true;
                return true;
            case "0" or "f" or "F" or "FALSE" or "false" or "False":
                return true;
            default:
                return false;
        }
    }
}

/// <summary>
/// A subscription's <c>bulkSubscribe</c>: messages are handed to the app in batches of at most
/// <see cref="MaxMessagesCount"/>, sent once that many are waiting or <see cref="MaxAwaitDuration"/> after the first.
/// </summary>
public sealed record BulkSubscribeOptions(int MaxMessagesCount, TimeSpan MaxAwaitDuration)
{
    // daprd's defaults when a bulk subscription names no limits (or a non-positive one).
    public const int DefaultMaxMessagesCount = 100;
    public const int DefaultMaxAwaitDurationMs = 1000;

    public static BulkSubscribeOptions? From(bool enabled, int? maxMessagesCount, int? maxAwaitDurationMs) =>
        enabled
            ? new(maxMessagesCount is > 0 and var n ? n : DefaultMaxMessagesCount,
                TimeSpan.FromMilliseconds(maxAwaitDurationMs is > 0 and var ms ? ms : DefaultMaxAwaitDurationMs))
            : null;
}

public sealed record DeclarativeSubscription(ResourceOrigin Origin, SubscriptionDefinition Definition, IReadOnlyList<string> Scopes);

/// <summary>Everything read from the resources folders and the configuration file.</summary>
public sealed record LoadedResources(
    IReadOnlyList<ComponentResource> Components,
    IReadOnlyList<DeclarativeSubscription> Subscriptions,
    IReadOnlyList<Resiliency.ResiliencyResource> Resiliencies,
    Configuration.SidecarConfiguration Configuration);
