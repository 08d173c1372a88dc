using System.Collections.Concurrent;
using System.Net.Http.Json;
using DaprShop.Sidecar.Components.PubSub;

namespace DaprShop.Sidecar.Mesh;

/// <summary>
/// Carries <c>pubsub.in-memory</c> messages between the sidecars of one local mesh, so that apps on the embedded
/// profile can publish to each other with no broker server. Each subscribing app id gets one copy, delivered to
/// one of its replicas (a consumer group per app id, as with Dapr's real brokers). daprd's in-memory broker does
/// not span apps; this is a documented difference (docs/sidecar.md).
/// </summary>
public sealed class MeshBroker(MeshRegistry registry, IHttpClientFactory httpClients, ILogger<MeshBroker> logger)
{
    public const string TokenHeader = "daprshop-mesh-token";
    private readonly ConcurrentDictionary<string, InMemoryPubSub> _local = new(StringComparer.Ordinal);

    public void Attach(string pubsubName, InMemoryPubSub broker) => _local[pubsubName] = broker;

    /// <summary>Hands the message to one replica of every other app id subscribed to the topic; throws if an app cannot take it.</summary>
    public async Task ForwardAsync(string pubsubName, PubSubMessage message, CancellationToken cancellationToken)
    {
        var key = MeshInstance.SubscriptionKey(pubsubName, message.Topic);
        var selfApp = registry.Self.AppId;
        var apps = registry.Instances()
            .Where(i => i.AppId != selfApp && i.Subscriptions.Contains(key))
            .Select(i => i.AppId)
            .Distinct()
            .ToList();

        foreach (var app in apps)
        {
            var tried = new List<string>();
            while (true)
            {
                var target = registry.Pick(app, tried);
                if (target is null || !target.Subscriptions.Contains(key))
                {
                    if (target is null)
                    {
                        throw new InvalidOperationException($"no replica of app '{app}' accepted the message on topic '{message.Topic}'");
                    }
                    tried.Add(target.InstanceId);
                    continue;
                }
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(target.BaseAddress, $"/_daprshop/mesh/pubsub/{Uri.EscapeDataString(pubsubName)}"))
                    {
                        Content = JsonContent.Create(new MeshMessage(message.Topic, message.Data, message.ContentType, message.Metadata)),
                    };
                    request.Headers.Add(TokenHeader, target.Token);
                    using var response = await httpClients.CreateClient("mesh").SendAsync(request, cancellationToken);
                    response.EnsureSuccessStatusCode();
                    break;
                }
                catch (HttpRequestException ex)
                {
                    logger.LogWarning("Replica {Instance} of {App} did not take a message on {Topic}: {Error}", target.InstanceId, app, message.Topic, ex.Message);
                    tried.Add(target.InstanceId);
                    registry.Invalidate();
                }
            }
        }
    }

    /// <summary>A message from another sidecar of the mesh: deliver it to this app's subscriptions.</summary>
    public bool Receive(string pubsubName, MeshMessage message)
    {
        if (!_local.TryGetValue(pubsubName, out var broker))
        {
            return false;
        }
        broker.DeliverLocally(new PubSubMessage(message.Topic, message.Data, message.ContentType, message.Metadata));
        return true;
    }
}

public sealed record MeshMessage(string Topic, byte[] Data, string ContentType, IReadOnlyDictionary<string, string> Metadata);
