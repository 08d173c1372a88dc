namespace DaprShop.Sidecar.Components.PubSub;

/// <summary>A message as the broker carries it: the CloudEvent (or raw payload) bytes plus metadata.</summary>
public sealed record PubSubMessage(string Topic, byte[] Data, string ContentType, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// The handler the runtime gives a broker for one subscription. Returning normally acknowledges the message;
/// throwing asks the broker to redeliver it the way that broker does (or not at all, if it cannot).
/// </summary>
public delegate Task MessageHandler(PubSubMessage message, CancellationToken cancellationToken);

/// <summary>The narrow contract of a pub/sub component.</summary>
public interface IPubSub : IComponent
{
    Task PublishAsync(PubSubMessage message, CancellationToken cancellationToken);

    /// <summary>Starts delivering messages of <paramref name="topic"/> to <paramref name="handler"/> until the returned handle is disposed.</summary>
    Task<IAsyncDisposable> SubscribeAsync(string topic, IReadOnlyDictionary<string, string> metadata, MessageHandler handler, CancellationToken cancellationToken);
}
