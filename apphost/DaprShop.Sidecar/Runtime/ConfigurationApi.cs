using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;
using DaprShop.Sidecar.Components.Configuration;
using DaprShop.Sidecar.Resiliency;

namespace DaprShop.Sidecar.Runtime;

/// <summary>
/// Dapr's configuration API, shared by both APIs: get items, and subscribe to their changes — a gRPC caller gets them
/// on its stream, an HTTP caller's app gets each change POSTed to <c>/configuration/{store}/{key}</c> as daprd sends
/// it (<c>{"id", "items"}</c>); a subscription ends with its unsubscribe (or, for a stream, when the caller leaves).
/// </summary>
public sealed class ConfigurationApi(ComponentHost components, AppChannel app, ResiliencyEngine resiliency, ILogger<ConfigurationApi> logger) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Subscription> _subscriptions = new(StringComparer.Ordinal);

    private sealed record Subscription(string Store, IAsyncDisposable Handle)
    {
        public TaskCompletionSource Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private IConfigurationStore Store(string name)
    {
        if (components.ConfigurationStores.Count == 0)
        {
            throw DaprErrors.ConfigurationStoresNotConfigured();
        }
        return components.ConfigurationStores.TryGetValue(name, out var store) ? store : throw DaprErrors.ConfigurationStoreNotFound(name);
    }

    public async Task<IReadOnlyDictionary<string, ConfigurationItem>> GetAsync(string storeName, IReadOnlyList<string> keys, IReadOnlyDictionary<string, string> metadata, CancellationToken ct)
    {
        var store = Store(storeName);
        try
        {
            return await resiliency.ForComponentOutbound(storeName).ExecuteAsync(c => store.GetAsync(keys, metadata, c), ct);
        }
        catch (Exception ex) when (ex is not DaprApiException and not OperationCanceledException)
        {
            throw DaprErrors.ConfigurationGet(storeName, keys, ex.Message);
        }
    }

    /// <summary>Starts a subscription whose changes go to <paramref name="changed"/>; returns its id.</summary>
    public async Task<string> SubscribeAsync(string storeName, IReadOnlyList<string> keys, IReadOnlyDictionary<string, string> metadata, Func<string, IReadOnlyDictionary<string, ConfigurationItem>, CancellationToken, Task> changed, CancellationToken ct)
    {
        var store = Store(storeName);
        var id = Guid.NewGuid().ToString();
        try
        {
            var handle = await store.SubscribeAsync(keys, metadata, (items, c) => changed(id, items, c), ct);
            _subscriptions[id] = new Subscription(storeName, handle);
            return id;
        }
        catch (Exception ex) when (ex is not DaprApiException and not OperationCanceledException)
        {
            throw DaprErrors.ConfigurationSubscribe(storeName, keys, ex.Message);
        }
    }

    /// <summary>The HTTP API's subscription: each change is POSTed to the app.</summary>
    public Task<string> SubscribeForAppAsync(string storeName, IReadOnlyList<string> keys, IReadOnlyDictionary<string, string> metadata, CancellationToken ct)
    {
        if (!app.HasApp)
        {
            throw DaprErrors.ConfigurationSubscribe(storeName, keys, "the app has no port (--app-port) to send changes to");
        }
        return SubscribeAsync(storeName, keys, metadata, async (id, items, c) =>
        {
            foreach (var (key, item) in items)
            {
                var body = JsonSerializer.SerializeToUtf8Bytes(new
                {
                    id,
                    items = new Dictionary<string, object> { [key] = new { value = item.Value, version = item.Version, metadata = item.Metadata } },
                });
                using var request = new HttpRequestMessage(HttpMethod.Post, $"/configuration/{Uri.EscapeDataString(storeName)}/{Uri.EscapeDataString(key)}")
                {
                    Content = new ByteArrayContent(body),
                };
                request.Content!.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await app.SendAsync(request, c, HttpCompletionOption.ResponseContentRead);
                if (!response.IsSuccessStatusCode)
                {
                    logger.LogWarning("The app answered {Status} to the configuration update of {Key} in {Store}", (int)response.StatusCode, key, storeName);
                }
            }
        }, ct);
    }

    public async Task UnsubscribeAsync(string storeName, string id)
    {
        Store(storeName);
        if (!_subscriptions.TryRemove(id, out var subscription) || subscription.Store != storeName)
        {
            throw DaprErrors.ConfigurationUnsubscribe(id, $"subscription {id} not found in store {storeName}");
        }
        await subscription.Handle.DisposeAsync();
        subscription.Ended.TrySetResult();
    }

    /// <summary>Completes when the subscription is unsubscribed (at once if it is not active).</summary>
    public Task EndedAsync(string id) => _subscriptions.TryGetValue(id, out var subscription) ? subscription.Ended.Task : Task.CompletedTask;

    /// <summary>Ends a stream's subscription when its caller goes away (no error if it was unsubscribed already).</summary>
    public async Task EndAsync(string id)
    {
        if (_subscriptions.TryRemove(id, out var subscription))
        {
            await subscription.Handle.DisposeAsync();
            subscription.Ended.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var id in _subscriptions.Keys.ToList())
        {
            await EndAsync(id);
        }
    }
}
