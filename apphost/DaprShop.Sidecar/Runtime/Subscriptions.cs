using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using DaprShop.Sidecar.Components.PubSub;
using DaprShop.Sidecar.Mesh;
using DaprShop.Sidecar.Resiliency;
using DaprShop.Sidecar.Resources;
using DaprShop.Sidecar.Tracing;

namespace DaprShop.Sidecar.Runtime;

/// <summary>An active subscription with its compiled routing rules.</summary>
public sealed record ActiveSubscription(SubscriptionDefinition Definition, IReadOnlyList<(Func<JsonObject, bool> Match, string Path)> Rules)
{
    /// <summary>The app connection a streaming subscription delivers to (Subscriptions.Streaming.cs); null for the app's own.</summary>
    public TopicStream? Stream { get; init; }
}

/// <summary>
/// The subscribing half of pub/sub: collects declarative subscriptions and the app's programmatic ones
/// (<c>GET /dapr/subscribe</c>), subscribes to the brokers, and delivers each message to the app with Dapr's
/// semantics: routing rules, SUCCESS/RETRY/DROP, 404 = drop, resiliency retries, then the dead-letter topic; a
/// bulk subscription's messages in batches (<see cref="BulkBatcher"/>, Subscriptions.Bulk.cs).
/// </summary>
public sealed partial class Subscriptions(
    ComponentHost components,
    LoadedResources resources,
    AppChannel app,
    PubSubApi publisher,
    ResiliencyEngine resiliency,
    MeshRegistry mesh,
    TimeProvider time,
    Tracing.SidecarMetrics metrics,
    ILogger<Subscriptions> logger) : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly List<IAsyncDisposable> _handles = [];
    private readonly List<ActiveSubscription> _active = [];

    /// <summary>The declarative and programmatic subscriptions made at start, then the streaming ones open now.</summary>
    public IReadOnlyList<ActiveSubscription> Active
    {
        get
        {
            lock (_streamsGate)
            {
                return [.. _active, .. _streams];
            }
        }
    }

    public async Task StartAsync(CancellationToken ct)
    {
        var definitions = new Dictionary<(string, string), SubscriptionDefinition>();
        foreach (var d in resources.Subscriptions)
        {
            definitions[(d.Definition.PubSubName, d.Definition.Topic)] = d.Definition;
        }
        if (app.HasApp)
        {
            foreach (var d in await ReadProgrammaticAsync(ct))
            {
                if (definitions.ContainsKey((d.PubSubName, d.Topic)))
                {
                    logger.LogWarning("Topic {Topic} on {PubSub} is subscribed both declaratively and by the app; the app's subscription wins", d.Topic, d.PubSubName);
                }
                definitions[(d.PubSubName, d.Topic)] = d;
            }
        }

        foreach (var definition in definitions.Values)
        {
            if (!components.PubSubs.TryGetValue(definition.PubSubName, out var pubsub))
            {
                logger.LogWarning("Subscription to {Topic} names pubsub {PubSub}, which is not loaded; skipped", definition.Topic, definition.PubSubName);
                continue;
            }
            if (!components.TopicScopesOf(definition.PubSubName).CanSubscribe(definition.Topic))
            {
                logger.LogWarning("Subscription to topic {Topic} on pubsub {PubSub} is not allowed for this app by the component's topic scoping; skipped",
                    definition.Topic, definition.PubSubName);
                continue;
            }
            var active = new ActiveSubscription(definition, definition.Rules.Select(r => (string.IsNullOrWhiteSpace(r.Match) ? MatchAll : RuleMatcher.Compile(r.Match), r.Path)).ToList());
            MessageHandler handler = (m, c) => HandleAsync(active, m, c);
            if (definition.Bulk is { } bulk)
            {
                var batcher = new BulkBatcher(bulk, (batch, c) => HandleBulkAsync(active, batch, c));
                handler = batcher.HandleAsync;
                _handles.Add(batcher);
            }
            _handles.Add(await pubsub.SubscribeAsync(definition.Topic, definition.Metadata, handler, ct));
            lock (_streamsGate)
            {
                _active.Add(active); // a stream may be opened (and Active read) while the app's subscriptions start
            }
            logger.LogInformation("Subscribed to topic {Topic} on {PubSub}", definition.Topic, definition.PubSubName);
        }
        lock (_streamsGate)
        {
            PublishSubscriptionsToMesh();
        }
    }

    private async Task<List<SubscriptionDefinition>> ReadProgrammaticAsync(CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/dapr/subscribe").As(AppCallKind.ListSubscriptions);
        using var response = await app.SendAsync(request, ct, HttpCompletionOption.ResponseContentRead);
        if (response.StatusCode == HttpStatusCode.NotFound || !response.IsSuccessStatusCode)
        {
            return [];
        }
        var body = await response.Content.ReadAsByteArrayAsync(ct);
        List<AppSubscription>? items;
        try
        {
            items = body.Length == 0 ? [] : JsonSerializer.Deserialize<List<AppSubscription>>(body, Json);
        }
        catch (JsonException ex)
        {
            logger.LogError("The app's /dapr/subscribe answer is not valid: {Error}", ex.Message);
            return [];
        }
        var result = new List<SubscriptionDefinition>();
        foreach (var s in items ?? [])
        {
            if (string.IsNullOrEmpty(s.PubSubName) || string.IsNullOrEmpty(s.Topic))
            {
                logger.LogWarning("Ignoring an app subscription without pubsubname or topic");
                continue;
            }
            var rules = new List<RouteRule>();
            foreach (var r in s.Routes?.Rules ?? [])
            {
                if (string.IsNullOrEmpty(r.Path))
                {
                    continue;
                }
                if (string.IsNullOrWhiteSpace(r.Match))
                {
                    rules.Add(new RouteRule(null, r.Path)); // daprd: a rule without a match takes every message that reaches it
                    continue;
                }
                try
                {
                    RuleMatcher.Compile(r.Match);
                    rules.Add(new RouteRule(r.Match, r.Path));
                }
                catch (FormatException ex)
                {
                    logger.LogError("Ignoring routing rule '{Match}' of topic {Topic}: {Error}", r.Match, s.Topic, ex.Message);
                }
            }
            var defaultRoute = NullIfEmpty(s.Routes?.Default) ?? NullIfEmpty(s.Route);
            if (defaultRoute is null && rules.Count == 0)
            {
                logger.LogWarning("Ignoring the app's subscription to topic {Topic}: it names no route", s.Topic);
                continue;
            }
            result.Add(new SubscriptionDefinition(s.PubSubName, s.Topic, rules, defaultRoute, NullIfEmpty(s.DeadLetterTopic),
                s.Metadata ?? new Dictionary<string, string>(),
                BulkSubscribeOptions.From(s.BulkSubscribe?.Enabled ?? false, s.BulkSubscribe?.MaxMessagesCount, s.BulkSubscribe?.MaxAwaitDurationMs), "PROGRAMMATIC"));
        }
        return result;
    }

    /// <summary>One delivery. Returning acknowledges; throwing hands the message back to the broker for redelivery.</summary>
    internal async Task HandleAsync(ActiveSubscription subscription, PubSubMessage message, CancellationToken ct)
    {
        if (subscription.Stream is null && !app.IsHealthy)
        {
            throw new InvalidOperationException("the app is unhealthy: delivery paused");
        }
        var definition = subscription.Definition;
        var ce = CloudEvents.ForDelivery(message.Data, definition.PubSubName, definition.Topic, definition.RawPayload, message.Metadata);
        if (ce is null)
        {
            await DeadLetterOrHandBackAsync(definition, message, new JsonObject(), NotACloudEvent, ct);
            return;
        }

        var (path, unroutable) = PathFor(subscription, ce);
        if (path is null)
        {
            await DeadLetterOrDropAsync(definition, message, ce, unroutable!, ct);
            return;
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(ce);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        Outcome outcome;
        try
        {
            outcome = await resiliency.ForComponentInbound(definition.PubSubName).ExecuteAsync(
                c => subscription.Stream is { } stream
                    ? DeliverToStreamAsync(stream, definition, ce, c)
                    : DeliverAsync(definition, path, ce, body, message.Metadata, c),
                ct,
                isFailure: o => o == Outcome.Retry,
                isRetriable: ex => ex is not StreamClosedException);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            logger.LogWarning("Delivery of {Id} on {Topic} failed: {Error}", ce["id"], definition.Topic, ex.Message);
            outcome = Outcome.Retry;
        }
        metrics.PubSubIngress(definition.PubSubName, outcome switch { Outcome.Success => "success", Outcome.Drop => "drop", _ => "retry" },
            definition.Topic, System.Diagnostics.Stopwatch.GetElapsedTime(started));

        switch (outcome)
        {
            case Outcome.Success:
                return;
            case Outcome.Drop:
                await DeadLetterOrDropAsync(definition, message, ce, "the app dropped it", ct);
                return;
            default:
                await DeadLetterOrHandBackAsync(definition, message, ce, "delivery failed after retries", ct);
                return;
        }
    }

    private const string NotACloudEvent = "it is not a CloudEvent (a subscription with rawPayload reads it)";

    /// <summary>
    /// A message that failed: to the subscription's dead-letter topic when it has one, else handed back to the broker
    /// for redelivery (by throwing), as daprd returns the error to the component.
    /// </summary>
    private async Task DeadLetterOrHandBackAsync(SubscriptionDefinition definition, PubSubMessage message, JsonObject ce, string why, CancellationToken ct)
    {
        if (definition.DeadLetterTopic is null)
        {
            throw new InvalidOperationException($"message {ce["id"]} on topic {definition.Topic}: {why}");
        }
        await DeadLetterOrDropAsync(definition, message, ce, why, ct);
    }

    /// <summary>The app path a message goes to, or why it goes nowhere (expired, or no rule matched).</summary>
    private (string? Path, string? Unroutable) PathFor(ActiveSubscription subscription, JsonObject ce)
    {
        if (CloudEvents.Expiration(ce) is { } expiration && expiration <= time.GetUtcNow())
        {
            return (null, "the message expired");
        }
        return Route(subscription, ce) is { } path ? (path, null) : (null, "no routing rule matched");
    }

    private static string? Route(ActiveSubscription subscription, JsonObject ce)
    {
        foreach (var (match, path) in subscription.Rules)
        {
            if (match(ce))
            {
                return path;
            }
        }
        return NullIfEmpty(subscription.Definition.DefaultRoute);
    }

    private static readonly Func<JsonObject, bool> MatchAll = _ => true;

    private enum Outcome { Success, Retry, Drop }

    private async Task<Outcome> DeliverAsync(SubscriptionDefinition definition, string path, JsonObject ce, byte[] body, IReadOnlyDictionary<string, string> metadata, CancellationToken ct)
    {
        using var activity = SidecarTelemetry.StartConsumer(definition.Topic, ce["traceparent"]?.GetValue<string>(), ce["tracestate"]?.GetValue<string>());
        using var request = new HttpRequestMessage(HttpMethod.Post, "/" + path.TrimStart('/'))
        {
            Content = new ByteArrayContent(body),
        }.As(AppCallKind.TopicEvent);
        request.Options.Set(AppCalls.Topic, definition.Topic);
        request.Content!.Headers.ContentType = MediaTypeHeaderValue.Parse(CloudEvents.ContentType);
        request.Headers.TryAddWithoutValidation("pubsubname", definition.PubSubName);
        foreach (var (key, value) in metadata)
        {
            if (!key.StartsWith("cloudevent.", StringComparison.OrdinalIgnoreCase) && IsHeaderSafe(key, value))
            {
                request.Headers.TryAddWithoutValidation(key, value);
            }
        }
        using var response = await app.SendAsync(request, ct, HttpCompletionOption.ResponseContentRead);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            logger.LogWarning("The app answered 404 for {Path}: message {Id} dropped", path, ce["id"]);
            return Outcome.Drop;
        }
        if (!response.IsSuccessStatusCode)
        {
            activity?.SetStatus(ActivityStatusCode.Error, $"HTTP {(int)response.StatusCode}");
            return Outcome.Retry;
        }
        var reply = await response.Content.ReadAsByteArrayAsync(ct);
        if (reply.Length == 0)
        {
            return Outcome.Success;
        }
        try
        {
            using var doc = JsonDocument.Parse(reply);
            // As daprd's Go decoding: the key in any case, the value exactly; a reply it cannot decode acknowledges.
            if (Field(doc.RootElement, "status") is not { } status || status.ValueKind == JsonValueKind.Null)
            {
                return Outcome.Success;
            }
            return status.ValueKind != JsonValueKind.String ? Outcome.Success : status.GetString() switch
            {
                "" or "SUCCESS" => Outcome.Success,
                "DROP" => Outcome.Drop,
                _ => Outcome.Retry, // RETRY, and any status daprd does not know
            };
        }
        catch (JsonException)
        {
            return Outcome.Success; // a non-JSON reply from a 2xx is an acknowledgement
        }
    }

    /// <summary>
    /// Forwards the message to the subscription's dead-letter topic as it came from the broker, as daprd does: the
    /// same bytes, so its CloudEvent keeps the original <c>topic</c> and any <c>expiration</c> (a subscription to the
    /// dead-letter topic drops an expired message again unless it reads raw payloads).
    /// </summary>
    private async Task DeadLetterOrDropAsync(SubscriptionDefinition definition, PubSubMessage message, JsonObject ce, string why, CancellationToken ct)
    {
        if (definition.DeadLetterTopic is not { } deadLetter)
        {
            logger.LogWarning("Message {Id} on {Topic} dropped: {Why}", ce["id"], definition.Topic, why);
            return;
        }
        logger.LogWarning("Message {Id} on {Topic} goes to dead-letter topic {DeadLetter}: {Why}", ce["id"], definition.Topic, deadLetter, why);
        var pubsub = publisher.Find(definition.PubSubName, deadLetter);
        // Throwing here makes the broker redeliver, so the message is never lost between topics.
        await publisher.SendAsync(definition.PubSubName, pubsub, message with { Topic = deadLetter, Metadata = new Dictionary<string, string>() }, ct);
    }

    /// <summary>A property of a JSON object matched as Go's JSON decoding matches struct fields: exactly, else in any case.</summary>
    internal static JsonElement? Field(JsonElement element, string name)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        if (element.TryGetProperty(name, out var exact))
        {
            return exact;
        }
        foreach (var property in element.EnumerateObject())
        {
            if (property.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Value;
            }
        }
        return null;
    }

    private static bool IsHeaderSafe(string key, string value) =>
        key.Length > 0 && key.All(c => c > 32 && c < 127 && c != ':') && value.All(c => c >= 32 && c < 127);

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    public async ValueTask DisposeAsync()
    {
        // Brokers first (they were added after their batchers), so nothing is handed to a stopped batcher.
        foreach (var handle in Enumerable.Reverse(_handles))
        {
            await handle.DisposeAsync();
        }
        _handles.Clear();
    }

    private sealed record AppSubscription(
        string? PubSubName,
        string? Topic,
        string? Route,
        AppRoutes? Routes,
        Dictionary<string, string>? Metadata,
        string? DeadLetterTopic,
        AppBulk? BulkSubscribe);

    private sealed record AppRoutes(List<AppRule>? Rules, string? Default);

    private sealed record AppRule(string? Match, string? Path);

    private sealed record AppBulk(bool Enabled, int? MaxMessagesCount, int? MaxAwaitDurationMs);
}
