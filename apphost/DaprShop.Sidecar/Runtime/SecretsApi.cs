using DaprShop.Sidecar.Components.Secrets;

namespace DaprShop.Sidecar.Runtime;

/// <summary>Secrets, shared by both APIs.</summary>
public sealed class SecretsApi(ComponentHost components)
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
        try
        {
            return await store.GetAsync(key, metadata, ct) ?? throw DaprErrors.SecretGet(key, storeName, $"secret {key} not found");
        }
        catch (Exception ex) when (ex is not DaprApiException and not OperationCanceledException)
        {
            throw DaprErrors.SecretGet(key, storeName, ex.Message);
        }
    }

    public async Task<IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>> GetBulkAsync(string storeName, IReadOnlyDictionary<string, string> metadata, CancellationToken ct)
    {
        var store = Store(storeName);
        try
        {
            return await store.GetAllAsync(metadata, ct);
        }
        catch (Exception ex) when (ex is not DaprApiException and not OperationCanceledException)
        {
            throw DaprErrors.SecretGet("", storeName, ex.Message);
        }
    }
}
