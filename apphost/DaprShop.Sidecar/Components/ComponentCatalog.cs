using DaprShop.Sidecar.Components.Bindings;
using DaprShop.Sidecar.Components.PubSub;
using DaprShop.Sidecar.Components.Secrets;
using DaprShop.Sidecar.Components.State;
using DaprShop.Sidecar.Mesh;

namespace DaprShop.Sidecar.Components;

/// <summary>
/// The component types this sidecar knows, each one small class behind its building block's interface.
/// A type not listed here stops the sidecar at start, as an unknown type stops daprd.
/// </summary>
public static class ComponentCatalog
{
    public delegate IComponent Factory(ComponentContext context, IServiceProvider services);

    private static readonly Dictionary<string, (string[] Versions, Factory Create)> Types = new(StringComparer.Ordinal)
    {
        ["state.in-memory"] = (["v1"], (c, _) => new InMemoryStateStore(c)),
        ["state.sqlite"] = (["v1"], (c, _) => new SqliteStateStore(c)),
        ["state.postgresql"] = (["v1"], (c, _) => new PostgresStateStore(c)),
        ["state.redis"] = (["v1"], (c, _) => new RedisStateStore(c)),
        ["state.mongodb"] = (["v1"], (c, _) => new MongoStateStore(c)), // written against MongoDB.Driver, not run here (docs/sidecar.md)
        ["pubsub.in-memory"] = (["v1"], (c, s) => new InMemoryPubSub(c, s.GetRequiredService<MeshBroker>())),
        ["pubsub.redis"] = (["v1"], (c, _) => new RedisStreamsPubSub(c)),
        ["pubsub.rabbitmq"] = (["v1"], (c, _) => new RabbitMqPubSub(c)),
        ["bindings.cron"] = (["v1"], (c, _) => new CronBinding(c)),
        ["bindings.http"] = (["v1"], (c, s) => new HttpOutputBinding(c, s.GetRequiredService<IHttpClientFactory>())),
        ["bindings.localstorage"] = (["v1"], (c, _) => new LocalStorageBinding(c)),
        ["bindings.smtp"] = (["v1"], (c, _) => new SmtpBinding(c)),
        ["configuration.redis"] = (["v1"], (c, _) => new Configuration.RedisConfigurationStore(c)),
        ["lock.redis"] = (["v1"], (c, _) => new Locks.RedisLockStore(c)),
        ["secretstores.local.file"] = (["v1"], (c, _) => new LocalFileSecretStore(c)),
        ["secretstores.local.env"] = (["v1"], (c, _) => new LocalEnvSecretStore(c)),
    };

    public static IEnumerable<string> KnownTypes => Types.Keys.Order(StringComparer.Ordinal);

    public static bool TryGet(string type, string version, out Factory factory, out string problem)
    {
        factory = null!;
        if (!Types.TryGetValue(type, out var entry))
        {
            problem = $"unknown component type '{type}' (this sidecar knows: {string.Join(", ", KnownTypes)})";
            return false;
        }
        if (!entry.Versions.Contains(version, StringComparer.Ordinal))
        {
            problem = $"component type '{type}' has no version '{version}' (known: {string.Join(", ", entry.Versions)})";
            return false;
        }
        factory = entry.Create;
        problem = "";
        return true;
    }
}
