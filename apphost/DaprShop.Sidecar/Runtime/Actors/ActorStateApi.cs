using DaprShop.Sidecar.Components.State;
using DaprShop.Sidecar.Hosting;
using DaprShop.Sidecar.Resiliency;

namespace DaprShop.Sidecar.Runtime.Actors;

/// <summary>One operation of an actor state transaction: <c>upsert</c> (with <c>ttlInSeconds</c> metadata) or <c>delete</c>.</summary>
public sealed record ActorStateOperation(string Operation, string Key, byte[]? Value, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// Actor state in the store marked <c>actorStateStore: "true"</c>, under daprd's keys
/// <c>{appId}||{actorType}||{actorId}||{key}</c> (the store's <c>keyPrefix</c> does not apply, as in daprd).
/// Only the sidecar hosting the actor id may read or write its state.
/// </summary>
public sealed class ActorStateApi(ComponentHost components, ActorPlacement placement, SidecarOptions options, ResiliencyEngine resiliency, Resources.LoadedResources resources)
{
    /// <summary>daprd's preview feature that lets actor state carry <c>ttlInSeconds</c>.</summary>
    public const string ActorStateTtlFeature = "ActorStateTTL";

    public StateStoreInfo Store => components.ActorStateStore ?? throw DaprErrors.ActorRuntimeNotFound();

    public string StateKey(string actorType, string actorId, string key) => $"{options.AppId}||{actorType}||{actorId}||{key}";

    private StateStoreInfo HostedStore(string actorType, string actorId)
    {
        var store = Store;
        if (!placement.IsLocal(actorType, actorId))
        {
            throw DaprErrors.ActorInstanceMissing();
        }
        return store;
    }

    public async Task<StateGetResult?> GetAsync(string actorType, string actorId, string key, CancellationToken ct)
    {
        var store = HostedStore(actorType, actorId);
        StateEntry? entry;
        try
        {
            entry = await resiliency.ForComponentOutbound(store.Name).ExecuteAsync(c => store.Store.GetAsync(StateKey(actorType, actorId, key), c), ct);
        }
        catch (Exception ex) when (ex is not DaprApiException and not OperationCanceledException)
        {
            throw DaprErrors.ActorStateGet(ex.Message, ex);
        }
        return entry is null ? null : new StateGetResult(entry.Value, entry.ETag, StateApi.EntryMetadata(entry));
    }

    public async Task TransactAsync(string actorType, string actorId, IReadOnlyList<ActorStateOperation> operations, CancellationToken ct)
    {
        var store = HostedStore(actorType, actorId);
        var ops = new List<StateOperation>(operations.Count);
        try
        {
            foreach (var op in operations)
            {
                if (string.IsNullOrEmpty(op.Key))
                {
                    throw new FormatException("missing key in operation");
                }
                if (op.Metadata.ContainsKey("ttlInSeconds") && !resources.Configuration.Features.Contains(ActorStateTtlFeature))
                {
                    throw new FormatException($"ttlInSeconds is not supported without the \"{ActorStateTtlFeature}\" feature enabled");
                }
                ops.Add(op.Operation.ToLowerInvariant() switch
                {
                    "upsert" => new SetOperation(StateKey(actorType, actorId, op.Key), op.Value ?? "null"u8.ToArray(), null, Concurrency.LastWrite, StateApi.ParseTtl(op.Metadata)),
                    "delete" => new DeleteOperation(StateKey(actorType, actorId, op.Key), null, Concurrency.LastWrite),
                    _ => throw new FormatException($"operation type {op.Operation} not supported"),
                });
            }
        }
        catch (FormatException ex)
        {
            throw DaprErrors.ActorStateTransaction(ex.Message, ex);
        }
        if (ops.Count == 0)
        {
            return;
        }
        try
        {
            await resiliency.ForComponentOutbound(store.Name).ExecuteAsync(async c => { await store.Store.TransactAsync(ops, c); return true; }, ct);
        }
        catch (Exception ex) when (ex is not DaprApiException and not OperationCanceledException)
        {
            throw DaprErrors.ActorStateTransaction(ex.Message, ex);
        }
    }
}
