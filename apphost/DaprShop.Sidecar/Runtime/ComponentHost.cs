using DaprShop.Sidecar.Components;
using DaprShop.Sidecar.Components.Bindings;
using DaprShop.Sidecar.Components.PubSub;
using DaprShop.Sidecar.Components.Secrets;
using DaprShop.Sidecar.Components.State;
using DaprShop.Sidecar.Hosting;
using DaprShop.Sidecar.Resources;

namespace DaprShop.Sidecar.Runtime;

/// <summary>A state store with the settings the runtime applies around it.</summary>
public sealed record StateStoreInfo(string Name, IStateStore Store, string? KeyPrefix, bool IsActorStateStore, OutboxSettings? Outbox = null);

/// <summary>A running component with its metadata as resolved (secrets and environment references filled in).</summary>
public sealed record LoadedComponent(ComponentResource Resource, IComponent Instance, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// Creates and initialises the components read from YAML: secret stores first (others may take secrets from them),
/// then the rest, with <c>secretKeyRef</c> and <c>envRef</c> resolved. A failure stops the sidecar unless the
/// component says <c>ignoreErrors: true</c>.
/// </summary>
public sealed class ComponentHost(SidecarOptions options, LoadedResources resources, IServiceProvider services, ILoggerFactory loggers) : IAsyncDisposable
{
    private readonly ILogger _logger = loggers.CreateLogger<ComponentHost>();
    private readonly List<LoadedComponent> _loaded = [];
    private readonly List<(string Type, string Name)> _failed = [];
    private readonly Dictionary<string, StateStoreInfo> _state = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IPubSub> _pubsub = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TopicScopes> _topicScopes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IOutputBinding> _outputBindings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IInputBinding> _inputBindings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ISecretStore> _secrets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Components.Configuration.IConfigurationStore> _configuration = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Components.Locks.ILockStore> _locks = new(StringComparer.Ordinal);
    private readonly List<(ComponentContext Context, OutboxSettings Settings)> _outboxes = [];

    public IReadOnlyList<LoadedComponent> Loaded => _loaded;
    public IReadOnlyDictionary<string, StateStoreInfo> StateStores => _state;
    public IReadOnlyDictionary<string, IPubSub> PubSubs => _pubsub;

    /// <summary>This app's topic scoping on a loaded pub/sub (<see cref="TopicScopes.Open"/> when the component sets none).</summary>
    public TopicScopes TopicScopesOf(string pubsubName) => _topicScopes.GetValueOrDefault(pubsubName, TopicScopes.Open);
    public IReadOnlyDictionary<string, IOutputBinding> OutputBindings => _outputBindings;
    public IReadOnlyDictionary<string, IInputBinding> InputBindings => _inputBindings;
    public IReadOnlyDictionary<string, ISecretStore> SecretStores => _secrets;
    public IReadOnlyDictionary<string, Components.Configuration.IConfigurationStore> ConfigurationStores => _configuration;
    public IReadOnlyDictionary<string, Components.Locks.ILockStore> LockStores => _locks;
    public StateStoreInfo? ActorStateStore { get; private set; }
    public bool Initialized { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Read once the start is over (the lists are only written before it).
        services.GetRequiredService<Tracing.SidecarMetrics>().CountComponentsWith(
            () => Initialized ? _loaded.Select(c => (c.Resource.Type, c.Resource.Name)) : [],
            () => Initialized ? _failed : []);
        var ordered = resources.Components.OrderBy(c => c.Category == "secretstores" ? 0 : 1).ToList();
        foreach (var resource in ordered)
        {
            try
            {
                await LoadAsync(resource, cancellationToken);
            }
            catch (Exception ex) when (resource.IgnoreErrors && ex is not OperationCanceledException)
            {
                _failed.Add((resource.Type, resource.Name));
                _logger.LogWarning("Component {Name} ({Type}) failed to initialise and is skipped (ignoreErrors): {Error}", resource.Name, resource.Type, ex.Message);
            }
        }

        var actorStores = _state.Values.Where(s => s.IsActorStateStore).ToList();
        if (actorStores.Count > 1)
        {
            throw new SidecarStartupException($"more than one state store has actorStateStore: \"true\": {string.Join(", ", actorStores.Select(s => s.Name))}");
        }
        ActorStateStore = actorStores.SingleOrDefault();
        // Checked once every component is loaded: the pub/sub may come after the store.
        foreach (var (context, outbox) in _outboxes)
        {
            if (!_pubsub.ContainsKey(outbox.PublishPubsub))
            {
                throw context.Error("outboxPublishPubsub", $"names pub/sub '{outbox.PublishPubsub}', which is not a loaded component");
            }
            if (outbox.CoordinationPubsub is { } coordination && !_pubsub.ContainsKey(coordination))
            {
                throw context.Error("outboxPubsub", $"names pub/sub '{coordination}', which is not a loaded component");
            }
        }
        Initialized = true;
    }

    private async Task LoadAsync(ComponentResource resource, CancellationToken cancellationToken)
    {
        if (!ComponentCatalog.TryGet(resource.Type, resource.Version, out var factory, out var problem))
        {
            throw new SidecarStartupException($"{resource.Origin.File}: component '{resource.Name}': field 'spec.type' {problem}");
        }
        var metadata = await ResolveMetadataAsync(resource, cancellationToken);
        var context = new ComponentContext(resource, metadata, options, loggers);
        IComponent instance;
        try
        {
            instance = factory(context, services);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(context.Duration("initTimeout", TimeSpan.FromSeconds(30)));
            await instance.InitAsync(timeout.Token);
        }
        catch (SidecarStartupException)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new SidecarStartupException($"{resource.Origin.File}: component '{resource.Name}' ({resource.Type}) failed to initialise: {ex.Message}");
        }

        _loaded.Add(new LoadedComponent(resource, instance, metadata));
        switch (instance)
        {
            case IStateStore store:
                var isActorStore = context.Bool("actorStateStore", false);
                if (isActorStore && !store.SupportsTransactions)
                {
                    throw context.Error("actorStateStore", "is set on a store without transactions, which actors need");
                }
                var prefix = context.Get("keyPrefix");
                if (prefix is not null && prefix.Contains("||", StringComparison.Ordinal))
                {
                    throw context.Error("keyPrefix", "may not contain '||'");
                }
                var outbox = OutboxSettings.Read(context, store);
                if (outbox is not null)
                {
                    _outboxes.Add((context, outbox));
                }
                _state[resource.Name] = new StateStoreInfo(resource.Name, store, prefix, isActorStore, outbox);
                break;
            case IPubSub pubsub:
                _pubsub[resource.Name] = pubsub;
                _topicScopes[resource.Name] = TopicScopes.Read(context, options.AppId);
                break;
            case ISecretStore secrets:
                _secrets[resource.Name] = secrets;
                break;
            case Components.Configuration.IConfigurationStore configuration:
                _configuration[resource.Name] = configuration;
                break;
            case Components.Locks.ILockStore lockStore:
                _locks[resource.Name] = lockStore;
                break;
        }
        // A binding can be both input and output.
        if (instance is IOutputBinding output)
        {
            _outputBindings[resource.Name] = output;
        }
        if (instance is IInputBinding input && context.String("direction", "input,output").Contains("input", StringComparison.OrdinalIgnoreCase))
        {
            _inputBindings[resource.Name] = input;
        }
        _logger.LogInformation("Component loaded: {Name} ({Type}/{Version})", resource.Name, resource.Type, resource.Version);
    }

    private async Task<IReadOnlyDictionary<string, string>> ResolveMetadataAsync(ComponentResource resource, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < resource.Metadata.Count; i++)
        {
            var item = resource.Metadata[i];
            string field = $"spec.metadata[{i}] ({item.Name})";
            if (item.SecretKeyRef is { } secretRef)
            {
                var storeName = resource.SecretStore
                    ?? throw new SidecarStartupException($"{resource.Origin.File}: component '{resource.Name}': {field} uses secretKeyRef but 'auth.secretStore' is not set");
                if (!_secrets.TryGetValue(storeName, out var store))
                {
                    throw new SidecarStartupException($"{resource.Origin.File}: component '{resource.Name}': auth.secretStore '{storeName}' is not a loaded secret store");
                }
                var secret = await store.GetAsync(secretRef.Name, new Dictionary<string, string>(), cancellationToken)
                    ?? throw new SidecarStartupException($"{resource.Origin.File}: component '{resource.Name}': {field}: secret '{secretRef.Name}' not found in '{storeName}'");
                result[item.Name] = secret.TryGetValue(secretRef.Key, out var value)
                    ? value
                    : throw new SidecarStartupException($"{resource.Origin.File}: component '{resource.Name}': {field}: secret '{secretRef.Name}' has no key '{secretRef.Key}'");
            }
            else if (item.EnvRef is { } env)
            {
                result[item.Name] = Environment.GetEnvironmentVariable(env)
                    ?? throw new SidecarStartupException($"{resource.Origin.File}: component '{resource.Name}': {field}: environment variable '{env}' is not set");
            }
            else
            {
                result[item.Name] = item.Value ?? "";
            }
        }
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var component in Enumerable.Reverse(_loaded))
        {
            try
            {
                await component.Instance.DisposeAsync();
            }
            catch (Exception ex)
            {
                _logger.LogWarning(ex, "Component {Name} failed to close", component.Resource.Name);
            }
        }
    }
}
