using DaprShop.Sidecar.Components.Locks;
using DaprShop.Sidecar.Hosting;
using DaprShop.Sidecar.Resiliency;

namespace DaprShop.Sidecar.Runtime;

/// <summary>
/// Dapr's distributed lock API (alpha), shared by both APIs: the lock key is <c>lock||{prefix}||{resourceId}</c> as in
/// daprd, the prefix chosen by the component's <c>keyPrefix</c> (<c>appid</c> by default, <c>name</c>, <c>none</c> or a
/// literal), so apps lock each other out only where they mean to. Calls run under the store's outbound resiliency policy.
/// </summary>
public sealed class LockApi(ComponentHost components, SidecarOptions options, ResiliencyEngine resiliency)
{
    private (ILockStore Store, string Key) Resolve(string storeName, string resourceId, string? owner, bool needsOwner)
    {
        if (components.LockStores.Count == 0)
        {
            throw DaprErrors.LockStoresNotConfigured();
        }
        if (!components.LockStores.TryGetValue(storeName, out var store))
        {
            throw DaprErrors.LockStoreNotFound(storeName);
        }
        if (string.IsNullOrEmpty(resourceId))
        {
            throw DaprErrors.MalformedRequest($"ResourceId is empty in lock store {storeName}");
        }
        if (needsOwner && string.IsNullOrEmpty(owner))
        {
            throw DaprErrors.MalformedRequest($"LockOwner is empty in lock store {storeName}");
        }
        var loaded = components.Loaded.First(c => c.Resource.Name == storeName);
        var prefix = (loaded.Metadata.TryGetValue("keyPrefix", out var p) && p.Length > 0 ? p : "appid") switch
        {
            "appid" => options.AppId,
            "name" => storeName,
            "none" => "",
            var literal => literal,
        };
        return (store, prefix.Length == 0 ? $"lock||{resourceId}" : $"lock||{prefix}||{resourceId}");
    }

    public async Task<bool> TryLockAsync(string storeName, string resourceId, string owner, int expiryInSeconds, CancellationToken ct)
    {
        var (store, key) = Resolve(storeName, resourceId, owner, needsOwner: true);
        if (expiryInSeconds <= 0)
        {
            throw DaprErrors.MalformedRequest($"ExpiryInSeconds is not positive in lock store {storeName}");
        }
        try
        {
            return await resiliency.ForComponentOutbound(storeName).ExecuteAsync(c => store.TryLockAsync(key, owner, TimeSpan.FromSeconds(expiryInSeconds), c), ct);
        }
        catch (Exception ex) when (ex is not DaprApiException and not OperationCanceledException)
        {
            throw DaprErrors.TryLock(storeName, resourceId, ex.Message);
        }
    }

    public async Task<UnlockStatus> UnlockAsync(string storeName, string resourceId, string owner, CancellationToken ct)
    {
        var (store, key) = Resolve(storeName, resourceId, owner, needsOwner: true);
        try
        {
            return await resiliency.ForComponentOutbound(storeName).ExecuteAsync(c => store.UnlockAsync(key, owner, c), ct);
        }
        catch (Exception ex) when (ex is not DaprApiException and not OperationCanceledException)
        {
            throw DaprErrors.Unlock(storeName, resourceId, ex.Message);
        }
    }
}
