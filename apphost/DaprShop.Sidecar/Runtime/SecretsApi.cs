using DaprShop.Sidecar.Components.Secrets;
using DaprShop.Sidecar.Resiliency;
using DaprShop.Sidecar.Resources;

namespace DaprShop.Sidecar.Runtime;

/// <summary>
/// Secrets, shared by both APIs, within the Configuration's <c>spec.secrets.scopes</c>, under the store's outbound
/// resiliency policy (a secret that is not found is an error of the store's, as in daprd: retried and counted).
/// </summary>
public sealed class SecretsApi(ComponentHost components, LoadedResources resources, ResiliencyEngine resiliency, Tracing.SidecarMetrics metrics)
{
    private ISecretStore Store(string name)
    {
        if (components.SecretStores.Count == 0)
        {
            throw DaprErrors.SecretStoresNotConfigured();
        }
        return components.SecretStores.TryGetValue(name, out var store) ? store : throw DaprErrors.SecretStoreNotFound(name);
    }

    public async Task<IReadOnlyDictionary<string, string>> GetAsync(string storeName, string key, IReadOnlyDictionary<string, string> metadata, CancellationToken ct)
    {
        var store = Store(storeName);
        if (!resources.Configuration.IsSecretAllowed(storeName, key))
        {
            throw DaprErrors.SecretPermissionDenied(key, storeName);
        }
        try
        {
            return await metrics.SecretAsync(storeName, Tracing.SidecarMetrics.Get, () => resiliency.ForComponentOutbound(storeName).ExecuteAsync(
                async c => await store.GetAsync(key, metadata, c) ?? throw new KeyNotFoundException($"secret {key} not found"), ct));
        }
        catch (Exception ex) when (ex is not DaprApiException and not OperationCanceledException)
        {
            throw DaprErrors.SecretGet(key, storeName, ex.Message);
        }
    }

    /// <summary>Every secret of the store the scope allows; the others are left out, as daprd leaves them out.</summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>> GetBulkAsync(string storeName, IReadOnlyDictionary<string, string> metadata, CancellationToken ct)
    {
        var store = Store(storeName);
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> all;
        try
        {
            all = await metrics.SecretAsync(storeName, Tracing.SidecarMetrics.BulkGet, () => resiliency.ForComponentOutbound(storeName).ExecuteAsync(c => store.GetAllAsync(metadata, c), ct));
        }
        catch (Exception ex) when (ex is not DaprApiException and not OperationCanceledException)
        {
            throw DaprErrors.BulkSecretGet(storeName, ex.Message);
        }
        return all.Where(s => resources.Configuration.IsSecretAllowed(storeName, s.Key)).ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal);
    }
}
