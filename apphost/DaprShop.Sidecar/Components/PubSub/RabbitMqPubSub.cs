using System.Globalization;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace DaprShop.Sidecar.Components.PubSub;

/// <summary>
/// <c>pubsub.rabbitmq</c> v1 with daprd's topology and defaults: a topic is an exchange (<c>exchangeKind</c>, fanout by
/// default), each app id reads from its own queue <c>{consumerID}-{topic}</c> bound to it (so every app gets every
/// message and its replicas share them), messages are acknowledged only after the app took them. As in daprd, a
/// failed message is requeued only with <c>requeueInFailure: true</c> (otherwise it is rejected: dead-lettered to
/// <c>dlx-{queue}</c> with <c>enableDeadLetter</c>, dropped without), the queue is deleted with its last consumer
/// unless <c>deletedWhenUnused: false</c>, and messages survive a broker restart only with <c>durable</c> and
/// <c>deliveryMode: 2</c>; <c>publisherConfirm: true</c> answers a publish only once the broker has it.
/// </summary>
public sealed class RabbitMqPubSub : IPubSub
{
    // A requeued message comes back at once; a pause before requeueing keeps an app that keeps failing from spinning.
    private static readonly TimeSpan RequeuePause = TimeSpan.FromMilliseconds(200);

    private readonly ComponentContext _context;
    private readonly ConnectionFactory _factory;
    private readonly string _consumerId;
    private readonly bool _durable;
    private readonly bool _deleteWhenUnused;
    private readonly bool _autoAck;
    private readonly bool _requeueInFailure;
    private readonly bool _enableDeadLetter;
    private readonly bool _publisherConfirm;
    private readonly bool _parallel;
    private readonly byte _deliveryMode;
    private readonly ushort _prefetchCount;
    private readonly long _maxLen;
    private readonly long _maxLenBytes;
    private readonly string _exchangeKind;
    private readonly TimeSpan? _defaultTtl;
    private readonly SemaphoreSlim _publishGate = new(1, 1);
    private readonly HashSet<string> _declared = new(StringComparer.Ordinal);
    private IConnection? _connection;
    private IChannel? _publisher;

    public RabbitMqPubSub(ComponentContext context)
    {
        _context = context;
        _factory = new ConnectionFactory
        {
            AutomaticRecoveryEnabled = true,
            TopologyRecoveryEnabled = true,
            NetworkRecoveryInterval = context.Duration("reconnectWaitSeconds", TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1)),
            ClientProvidedName = $"daprshop-{context.Options.AppId}",
        };
        var connectionString = context.Get("connectionString") ?? context.Get("host");
        try
        {
            if (connectionString is not null)
            {
                _factory.Uri = new Uri(connectionString);
            }
            else
            {
                var protocol = context.String("protocol", "amqp");
                if (protocol is not ("amqp" or "amqps"))
                {
                    throw context.Error("protocol", $"must be amqp or amqps, not '{protocol}'");
                }
                _factory.Uri = new Uri($"{protocol}://{context.String("hostname", "localhost")}");
                _factory.UserName = context.String("username", _factory.UserName);
                _factory.Password = context.String("password", _factory.Password);
            }
        }
        catch (UriFormatException ex)
        {
            throw context.Error("connectionString", $"is not an amqp:// URI ({ex.Message})");
        }
        if (context.Bool("saslExternal", false))
        {
            throw context.Error("saslExternal", "is not supported by this sidecar (docs/sidecar.md)");
        }
        // daprd options this sidecar does not implement stop the start rather than being ignored.
        foreach (var unsupported in new[] { "caCert", "clientCert", "clientKey", "maxPriority", "queueType", "singleActiveConsumer", "exchangeDeclareMode" })
        {
            if (context.Get(unsupported) is not null)
            {
                throw context.Error(unsupported, "is not supported by this sidecar (docs/sidecar.md)");
            }
        }
        _consumerId = context.String("consumerID", context.Options.AppId);
        _durable = context.Bool("durable", true);
        _deleteWhenUnused = context.Bool("deletedWhenUnused", true);
        _autoAck = context.Bool("autoAck", false);
        _requeueInFailure = context.Bool("requeueInFailure", false);
        _enableDeadLetter = context.Bool("enableDeadLetter", false);
        _publisherConfirm = context.Bool("publisherConfirm", false);
        var deliveryMode = context.Int("deliveryMode", 0);
        _deliveryMode = deliveryMode is >= 0 and <= 2 ? (byte)deliveryMode : throw context.Error("deliveryMode", "must be 0, 1 (transient) or 2 (persistent)");
        var prefetch = context.Int("prefetchCount", 0);
        _prefetchCount = prefetch is >= 0 and <= ushort.MaxValue ? (ushort)prefetch : throw context.Error("prefetchCount", "must be 0 (no limit) to 65535");
        _maxLen = NonNegative("maxLen");
        _maxLenBytes = NonNegative("maxLenBytes");
        _exchangeKind = context.String("exchangeKind", ExchangeType.Fanout);
        if (_exchangeKind is not (ExchangeType.Fanout or ExchangeType.Direct or ExchangeType.Topic or ExchangeType.Headers))
        {
            throw context.Error("exchangeKind", $"must be fanout, direct, topic or headers, not '{_exchangeKind}'");
        }
        _parallel = context.String("concurrencyMode", "parallel") switch
        {
            "parallel" => true,
            "single" => false,
            var other => throw context.Error("concurrencyMode", $"must be parallel or single, not '{other}'"),
        };
        _defaultTtl = context.Get("ttlInSeconds") is null ? null : TimeSpan.FromSeconds(context.Int("ttlInSeconds", 0));
    }

    public IReadOnlyList<string> Capabilities { get; } = [Runtime.PubSubApi.MessageTtlCapability];

    public async Task InitAsync(CancellationToken cancellationToken)
    {
        try
        {
            _connection = await _factory.CreateConnectionAsync(cancellationToken);
        }
        catch (RabbitMQ.Client.Exceptions.BrokerUnreachableException ex)
        {
            throw new InvalidOperationException($"component '{_context.Name}' ({_context.Resource.Type}) cannot reach RabbitMQ at {_factory.Endpoint}: {ex.InnerException?.Message ?? ex.Message}", ex);
        }
        _publisher = await _connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: _publisherConfirm, publisherConfirmationTrackingEnabled: _publisherConfirm), cancellationToken);
    }

    public async Task PublishAsync(PubSubMessage message, CancellationToken cancellationToken)
    {
        var channel = _publisher ?? throw new InvalidOperationException("the pub/sub is not initialised");
        var properties = new BasicProperties
        {
            DeliveryMode = _deliveryMode == 2 ? DeliveryModes.Persistent : DeliveryModes.Transient,
            ContentType = message.ContentType,
        };
        var ttl = message.Metadata.TryGetValue("ttlInSeconds", out var text) && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(seconds)
            : _defaultTtl;
        if (ttl is { } t)
        {
            properties.Expiration = ((long)t.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        }
        if (message.Metadata.TryGetValue("priority", out var priority) && byte.TryParse(priority, NumberStyles.Integer, CultureInfo.InvariantCulture, out var p))
        {
            properties.Priority = p;
        }
        var routingKey = message.Metadata.TryGetValue("routingKey", out var key) ? key : "";
        // One publisher channel: AMQP channels are not for concurrent publishes, and confirms are tracked per channel.
        await _publishGate.WaitAsync(cancellationToken);
        try
        {
            await DeclareExchangeAsync(channel, message.Topic, cancellationToken);
            await channel.BasicPublishAsync(message.Topic, routingKey, mandatory: false, properties, message.Data, cancellationToken);
        }
        finally
        {
            _publishGate.Release();
        }
    }

    public async Task<IAsyncDisposable> SubscribeAsync(string topic, IReadOnlyDictionary<string, string> metadata, MessageHandler handler, CancellationToken cancellationToken)
    {
        var connection = _connection ?? throw new InvalidOperationException("the pub/sub is not initialised");
        var concurrency = _parallel ? (ushort)Math.Max((int)_prefetchCount, 16) : (ushort)1;
        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(false, false, consumerDispatchConcurrency: concurrency), cancellationToken);
        await DeclareExchangeAsync(channel, topic, cancellationToken);
        var queue = metadata.TryGetValue("queueName", out var named) && !string.IsNullOrEmpty(named) ? named : $"{_consumerId}-{topic}";
        var arguments = new Dictionary<string, object?>();
        if (_maxLen > 0)
        {
            arguments["x-max-length"] = _maxLen;
        }
        if (_maxLenBytes > 0)
        {
            arguments["x-max-length-bytes"] = _maxLenBytes;
        }
        if (_enableDeadLetter)
        {
            var dlx = $"dlx-{queue}";
            await channel.ExchangeDeclareAsync(dlx, ExchangeType.Fanout, _durable, _deleteWhenUnused, cancellationToken: cancellationToken);
            await channel.QueueDeclareAsync($"dlq-{queue}", _durable, exclusive: false, autoDelete: _deleteWhenUnused, cancellationToken: cancellationToken);
            await channel.QueueBindAsync($"dlq-{queue}", dlx, "", cancellationToken: cancellationToken);
            arguments["x-dead-letter-exchange"] = dlx;
        }
        await channel.QueueDeclareAsync(queue, _durable, exclusive: false, autoDelete: _deleteWhenUnused, arguments, cancellationToken: cancellationToken);
        var routingKeys = metadata.TryGetValue("routingKey", out var keys) && !string.IsNullOrEmpty(keys) ? keys.Split(',', StringSplitOptions.TrimEntries) : [""];
        foreach (var routingKey in routingKeys)
        {
            await channel.QueueBindAsync(queue, topic, routingKey, cancellationToken: cancellationToken);
        }
        if (_prefetchCount > 0)
        {
            await channel.BasicQosAsync(0, _prefetchCount, false, cancellationToken);
        }

        var stop = new CancellationTokenSource();
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            var message = new PubSubMessage(topic, delivery.Body.ToArray(), delivery.BasicProperties.ContentType ?? "application/octet-stream", new Dictionary<string, string>());
            try
            {
                await handler(message, stop.Token);
                if (!_autoAck)
                {
                    await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
                }
            }
            catch (Exception ex) when (!stop.IsCancellationRequested)
            {
                if (_autoAck)
                {
                    _context.Logger.LogWarning("A message on {Topic} failed and is lost (autoAck): {Error}", topic, ex.Message);
                    return;
                }
                _context.Logger.LogWarning("A message on {Topic} failed and is {What}: {Error}", topic,
                    _requeueInFailure ? "requeued" : _enableDeadLetter ? "dead-lettered by the broker" : "rejected (requeueInFailure is off)", ex.Message);
                if (_requeueInFailure)
                {
                    await Task.Delay(RequeuePause, CancellationToken.None);
                }
                await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: _requeueInFailure);
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                // stopping: the unacknowledged message goes back to the queue with the channel
            }
        };
        var tag = await channel.BasicConsumeAsync(queue, _autoAck, consumer, cancellationToken);
        return new Subscription(channel, tag, stop);
    }

    private async Task DeclareExchangeAsync(IChannel channel, string exchange, CancellationToken cancellationToken)
    {
        if (channel == _publisher && _declared.Contains(exchange))
        {
            return;
        }
        await channel.ExchangeDeclareAsync(exchange, _exchangeKind, _durable, _deleteWhenUnused, cancellationToken: cancellationToken);
        if (channel == _publisher)
        {
            _declared.Add(exchange);
        }
    }

    private long NonNegative(string name)
    {
        var v = _context.Get(name);
        if (v is null)
        {
            return 0;
        }
        return long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0 ? n : throw _context.Error(name, $"must be 0 (no limit) or more, not '{v}'");
    }

    public async ValueTask DisposeAsync()
    {
        if (_publisher is not null)
        {
            await _publisher.DisposeAsync();
        }
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
        _publishGate.Dispose();
    }

    private sealed class Subscription(IChannel channel, string consumerTag, CancellationTokenSource stop) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            try
            {
                await channel.BasicCancelAsync(consumerTag);
                await channel.CloseAsync();
            }
            catch (Exception ex) when (ex is RabbitMQ.Client.Exceptions.AlreadyClosedException or RabbitMQ.Client.Exceptions.OperationInterruptedException or IOException)
            {
                // the connection is gone already
            }
            await channel.DisposeAsync();
            stop.Dispose();
        }
    }
}
