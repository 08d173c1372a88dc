using DaprShop.Sidecar.Components.Secrets;
using DaprShop.Sidecar.Resources;

namespace DaprShop.Sidecar.Runtime;

/// <summary>Secrets, shared by both APIs, within the Configuration's <c>spec.secrets.scopes</c>.</summary>
public sealed class SecretsApi(ComponentHost components, LoadedResources resources)
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
            return await store.GetAsync(key, metadata, ct) ?? throw DaprErrors.SecretGet(key, storeName, $"secret {key} not found");
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
            all = await store.GetAllAsync(metadata, ct);
        }
        catch (Exception ex) when (ex is not DaprApiException and not OperationCanceledException)
        {
            throw DaprErrors.BulkSecretGet(storeName, ex.Message);
        }
        return all.Where(s => resources.Configuration.IsSecretAllowed(storeName, s.Key)).ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal);
    }
}
