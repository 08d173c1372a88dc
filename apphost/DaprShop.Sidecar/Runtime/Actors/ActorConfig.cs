using System.Text.Json;
using DaprShop.Sidecar.Hosting;

namespace DaprShop.Sidecar.Runtime.Actors;

/// <summary>Settings of one hosted actor type, after <c>entitiesConfig</c> overrides the top level.</summary>
public sealed record ActorTypeSettings(
    string Type,
    TimeSpan IdleTimeout,
    TimeSpan DrainOngoingCallTimeout,
    bool DrainRebalancedActors,
    bool ReentrancyEnabled,
    int MaxStackDepth,
    int RemindersStoragePartitions);

/// <summary>
/// What the app answers on <c>GET /dapr/config</c>: the actor types it hosts and their runtime settings, with
/// daprd's defaults (idle timeout 60m, scan interval 30s, drain timeout 60s, drain on, reentrancy off with depth 32).
/// </summary>
public sealed class ActorConfig
{
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromMinutes(60);
    public static readonly TimeSpan DefaultScanInterval = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultDrainTimeout = TimeSpan.FromSeconds(60);
    public const int DefaultMaxStackDepth = 32;

    public static readonly ActorConfig Empty = new([], DefaultScanInterval, new Dictionary<string, ActorTypeSettings>());

    private ActorConfig(IReadOnlyList<string> entities, TimeSpan scanInterval, IReadOnlyDictionary<string, ActorTypeSettings> types)
    {
        Entities = entities;
        ScanInterval = scanInterval;
        Types = types;
    }

    public IReadOnlyList<string> Entities { get; }
    public TimeSpan ScanInterval { get; }
    public IReadOnlyDictionary<string, ActorTypeSettings> Types { get; }

    public static ActorConfig Parse(ReadOnlySpan<byte> json)
    {
        using var doc = JsonDocument.Parse(json.ToArray());
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return Empty;
        }
        var entities = Strings(root, "entities");
        var top = new ActorTypeSettings("",
            Duration(root, "actorIdleTimeout") ?? DefaultIdleTimeout,
            Duration(root, "drainOngoingCallTimeout") ?? DefaultDrainTimeout,
            Bool(root, "drainRebalancedActors") ?? true,
            false, DefaultMaxStackDepth,
            Int(root, "remindersStoragePartitions") ?? 0);
        top = WithReentrancy(top, root);
        var scan = Duration(root, "actorScanInterval") ?? DefaultScanInterval;

        var types = entities.ToDictionary(e => e, e => top with { Type = e }, StringComparer.Ordinal);
        if (root.TryGetProperty("entitiesConfig", out var configs) && configs.ValueKind == JsonValueKind.Array)
        {
            foreach (var config in configs.EnumerateArray())
            {
                foreach (var entity in Strings(config, "entities"))
                {
                    // An entry for a type not in the top-level list is ignored, as daprd ignores it.
                    if (!types.TryGetValue(entity, out var current))
                    {
                        continue;
                    }
                    current = current with
                    {
                        IdleTimeout = Duration(config, "actorIdleTimeout") ?? current.IdleTimeout,
                        DrainOngoingCallTimeout = Duration(config, "drainOngoingCallTimeout") ?? current.DrainOngoingCallTimeout,
                        DrainRebalancedActors = Bool(config, "drainRebalancedActors") ?? current.DrainRebalancedActors,
                        RemindersStoragePartitions = Int(config, "remindersStoragePartitions") ?? current.RemindersStoragePartitions,
                    };
                    types[entity] = WithReentrancy(current, config);
                }
            }
        }
        return new ActorConfig(entities, scan > TimeSpan.Zero ? scan : DefaultScanInterval, types);
    }

    private static ActorTypeSettings WithReentrancy(ActorTypeSettings settings, JsonElement e)
    {
        if (!e.TryGetProperty("reentrancy", out var r) || r.ValueKind != JsonValueKind.Object)
        {
            return settings;
        }
        return settings with
        {
            ReentrancyEnabled = Bool(r, "enabled") ?? settings.ReentrancyEnabled,
            MaxStackDepth = Int(r, "maxStackDepth") is { } depth and > 0 ? depth : settings.MaxStackDepth,
        };
    }

    private static List<string> Strings(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).Where(s => s.Length > 0).Distinct().ToList()
            : [];

    private static TimeSpan? Duration(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && Durations.TryParse(v.GetString(), out var d) && d > TimeSpan.Zero ? d : null;

    private static bool? Bool(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    private static int? Int(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) ? n : null;
}
