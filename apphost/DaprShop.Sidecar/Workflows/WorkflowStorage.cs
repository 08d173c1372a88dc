using System.Text.Json;
using System.Text.Json.Serialization;
using Dapr.DurableTask.Protobuf;
using DaprShop.Sidecar.Components.State;
using Google.Protobuf;

namespace DaprShop.Sidecar.Workflows;

/// <summary>
/// One instance's summary row (key <c>...||{instanceId}||metadata</c>), JSON. It names which history and inbox
/// rows exist, so an instance loads with one read per row and a turn is one transaction.
/// </summary>
public sealed class InstanceMetadata
{
    public string Name { get; set; } = "";
    public int Status { get; set; } = (int)OrchestrationStatus.Pending;
    public DateTime CreatedAt { get; set; }
    public DateTime LastUpdatedAt { get; set; }
    public DateTime? CompletedAt { get; set; }
    /// <summary>When the retention policy in effect at the instance's end purges it (null: kept until purged by a client).</summary>
    public DateTime? PurgeAt { get; set; }
    public DateTime? StartedAt { get; set; }
    public DateTime? ScheduledStartAt { get; set; }
    public string? Input { get; set; }
    public string? Output { get; set; }
    /// <summary>Base64 of the <see cref="TaskFailureDetails"/> message.</summary>
    public string? FailureDetails { get; set; }
    public string ExecutionId { get; set; } = "";
    public string? ParentInstanceId { get; set; }
    /// <summary>Bumped by continue-as-new and by a restart of a finished id; work of older generations is dropped.</summary>
    public long Generation { get; set; } = 1;
    public int HistoryLength { get; set; }
    public List<long> Inbox { get; set; } = [];
    public long NextInboxSeq { get; set; }
    public bool HasCustomStatus { get; set; }
    /// <summary>Messages for other instances (child start, completion to the parent, events, terminate) not yet delivered.</summary>
    public List<OutboxMessage> Outbox { get; set; } = [];

    [JsonIgnore]
    public OrchestrationStatus RuntimeStatus
    {
        get => (OrchestrationStatus)Status;
        set => Status = (int)value;
    }

    [JsonIgnore]
    public bool IsTerminal => RuntimeStatus is OrchestrationStatus.Completed or OrchestrationStatus.Failed or OrchestrationStatus.Terminated or OrchestrationStatus.Canceled;
}

/// <summary>A message for another instance: kind <c>start</c>, <c>event</c> or <c>terminate</c>; the event is a base64 HistoryEvent.</summary>
public sealed record OutboxMessage(string Id, string Kind, string Target, string? Event, string? Reason = null, bool Recursive = false);

[JsonSerializable(typeof(InstanceMetadata))]
[JsonSerializable(typeof(List<string>))]
internal sealed partial class WorkflowJsonContext : JsonSerializerContext;

/// <summary>
/// The keys of the workflow engine in the actor state store, in Dapr's actor-state spirit:
/// <c>{appId}||dapr.internal.{namespace}.{appId}.workflow||{instanceId}||{metadata|history-NNNNNN|inbox-NNNNNN|customStatus}</c>
/// and the partitioned instance index <c>{appId}||dapr.internal.{namespace}.{appId}.workflow||index||NN</c>.
/// </summary>
public sealed class WorkflowStorage(IStateStore store, string appId, string ns)
{
    public const int IndexPartitions = 64;
    private readonly string _root = $"{appId}||dapr.internal.{(string.IsNullOrEmpty(ns) ? "default" : ns)}.{appId}.workflow||";

    public IStateStore Store => store;

    public string MetadataKey(string id) => $"{_root}{id}||metadata";
    public string HistoryKey(string id, int index) => $"{_root}{id}||history-{index:D6}";
    public string InboxKey(string id, long seq) => $"{_root}{id}||inbox-{seq:D6}";
    public string CustomStatusKey(string id) => $"{_root}{id}||customStatus";
    public string IndexKey(int partition) => $"{_root}index||{partition:D2}";

    public static int PartitionOf(string instanceId)
    {
        // FNV-1a: stable across processes (string.GetHashCode is randomised per process).
        uint hash = 2166136261;
        foreach (var c in instanceId)
        {
            hash = (hash ^ c) * 16777619;
        }
        return (int)(hash % IndexPartitions);
    }

    public static SetOperation Set(string key, byte[] value) => new(key, value, null, Concurrency.LastWrite, null);
    public static DeleteOperation Delete(string key) => new(key, null, Concurrency.LastWrite);

    public SetOperation SetMetadata(string id, InstanceMetadata metadata) =>
        Set(MetadataKey(id), JsonSerializer.SerializeToUtf8Bytes(metadata, WorkflowJsonContext.Default.InstanceMetadata));

    public SetOperation SetIndex(int partition, IEnumerable<string> ids) =>
        Set(IndexKey(partition), JsonSerializer.SerializeToUtf8Bytes(ids.ToList(), WorkflowJsonContext.Default.ListString));

    public async Task<List<string>> ReadIndexAsync(int partition, CancellationToken ct)
    {
        var entry = await store.GetAsync(IndexKey(partition), ct);
        return entry is null ? [] : JsonSerializer.Deserialize(entry.Value, WorkflowJsonContext.Default.ListString) ?? [];
    }

    public async Task<InstanceMetadata?> ReadMetadataAsync(string id, CancellationToken ct)
    {
        var entry = await store.GetAsync(MetadataKey(id), ct);
        return entry is null ? null : JsonSerializer.Deserialize(entry.Value, WorkflowJsonContext.Default.InstanceMetadata);
    }

    public async Task<List<HistoryEvent>> ReadHistoryAsync(string id, int length, CancellationToken ct)
    {
        var reads = new Task<StateEntry?>[length];
        for (var i = 0; i < length; i++)
        {
            reads[i] = store.GetAsync(HistoryKey(id, i), ct);
        }
        var entries = await Task.WhenAll(reads);
        return entries.Select((e, i) => e is null
            ? throw new InvalidDataException($"workflow '{id}': history row {i} is missing")
            : HistoryEvent.Parser.ParseFrom(e.Value)).ToList();
    }

    public async Task<List<(long Seq, HistoryEvent Event)>> ReadInboxAsync(string id, IReadOnlyList<long> seqs, CancellationToken ct)
    {
        var result = new List<(long, HistoryEvent)>(seqs.Count);
        foreach (var seq in seqs)
        {
            var entry = await store.GetAsync(InboxKey(id, seq), ct);
            if (entry is not null)
            {
                result.Add((seq, HistoryEvent.Parser.ParseFrom(entry.Value)));
            }
        }
        return result;
    }

    public async Task<string?> ReadCustomStatusAsync(string id, CancellationToken ct)
    {
        var entry = await store.GetAsync(CustomStatusKey(id), ct);
        return entry is null ? null : System.Text.Encoding.UTF8.GetString(entry.Value);
    }

    public static string Encode(IMessage message) => Convert.ToBase64String(message.ToByteArray());
    public static HistoryEvent DecodeEvent(string base64) => HistoryEvent.Parser.ParseFrom(Convert.FromBase64String(base64));
}
