using StackExchange.Redis;

namespace DaprShop.Sidecar.Components.Redis;

/// <summary>
/// The connection metadata Dapr's Redis components share (<c>redisHost</c>, <c>redisUsername</c>,
/// <c>redisPassword</c>, <c>redisDB</c>, <c>enableTLS</c>, timeouts), read into StackExchange.Redis options. A single
/// node only: <c>redisType: cluster</c> and <c>failover: true</c> (Sentinel) stop the sidecar at start, because the
/// store's Lua scripts touch several keys at once and this sidecar does not route them by slot.
/// </summary>
public static class RedisSettings
{
    public static ConfigurationOptions Read(ComponentContext context)
    {
        var host = context.Required("redisHost");
        var options = new ConfigurationOptions
        {
            User = context.Get("redisUsername"),
            Password = context.Get("redisPassword"),
            DefaultDatabase = context.Int("redisDB", 0),
            Ssl = context.Bool("enableTLS", false),
            ConnectTimeout = Milliseconds(context, "dialTimeout", TimeSpan.FromSeconds(5)),
            SyncTimeout = Milliseconds(context, "readTimeout", TimeSpan.FromSeconds(3)),
            AsyncTimeout = Milliseconds(context, "readTimeout", TimeSpan.FromSeconds(3)),
            AbortOnConnectFail = false,
            ClientName = $"daprshop-{context.Options.AppId}",
        };
        if (options.DefaultDatabase < 0)
        {
            throw context.Error("redisDB", "must be 0 or more");
        }
        try
        {
            options.EndPoints.Add(host);
        }
        catch (ArgumentException ex)
        {
            throw context.Error("redisHost", $"must be host:port, not '{host}' ({ex.Message})");
        }
        if (!string.Equals(context.String("redisType", "node"), "node", StringComparison.OrdinalIgnoreCase))
        {
            throw context.Error("redisType", "must be 'node': this sidecar connects to a single Redis node (docs/sidecar.md)");
        }
        if (context.Bool("failover", false))
        {
            throw context.Error("failover", "is not supported: this sidecar connects to a single Redis node (docs/sidecar.md)");
        }
        return options;
    }

    /// <summary>Connects, and fails <see cref="IComponent.InitAsync"/> with the component's name when Redis cannot be reached.</summary>
    public static async Task<ConnectionMultiplexer> ConnectAsync(ComponentContext context, ConfigurationOptions options)
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(options);
        try
        {
            await connection.GetDatabase().PingAsync();
        }
        catch (RedisException ex)
        {
            await connection.DisposeAsync();
            throw new InvalidOperationException($"component '{context.Name}' ({context.Resource.Type}) cannot reach Redis at {context.Get("redisHost")}: {ex.Message}", ex);
        }
        return connection;
    }

    private static int Milliseconds(ComponentContext context, string name, TimeSpan fallback) =>
        (int)Math.Clamp(context.Duration(name, fallback, TimeSpan.FromSeconds(1)).TotalMilliseconds, 1, int.MaxValue);
}
