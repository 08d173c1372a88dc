namespace DaprShop.Sidecar.Components.Secrets;

/// <summary>The narrow contract of a secret store. A secret is a map: one key for single-valued stores.</summary>
public interface ISecretStore : IComponent
{
    /// <summary>The secret, or null when the store has no secret of that name.</summary>
    Task<IReadOnlyDictionary<string, string>?> GetAsync(string name, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken);

    Task<IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>> GetAllAsync(IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken);
}
