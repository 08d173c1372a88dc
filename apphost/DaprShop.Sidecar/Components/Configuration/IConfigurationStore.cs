namespace DaprShop.Sidecar.Components.Configuration;

/// <summary>A configuration item as Dapr's configuration API returns it.</summary>
public sealed record ConfigurationItem(string Value, string Version, IReadOnlyDictionary<string, string> Metadata);

/// <summary>Called with the items that changed (a deleted key comes with an empty value and version).</summary>
public delegate Task ConfigurationChanged(IReadOnlyDictionary<string, ConfigurationItem> items, CancellationToken cancellationToken);

/// <summary>The narrow contract of a configuration store component.</summary>
public interface IConfigurationStore : IComponent
{
    /// <summary>The named keys that exist, or every key when <paramref name="keys"/> is empty.</summary>
    Task<IReadOnlyDictionary<string, ConfigurationItem>> GetAsync(IReadOnlyList<string> keys, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken);

    /// <summary>Watches the named keys (every key when empty) until the returned handle is disposed.</summary>
    Task<IAsyncDisposable> SubscribeAsync(IReadOnlyList<string> keys, IReadOnlyDictionary<string, string> metadata, ConfigurationChanged changed, CancellationToken cancellationToken);
}
