using DaprShop.Sidecar.Components;

namespace DaprShop.Sidecar.Runtime;

/// <summary>
/// Dapr's pub/sub topic scoping for this app, read from a pub/sub component's metadata: <c>publishingScopes</c> and
/// <c>subscriptionScopes</c> (<c>app1=topic1,topic2;app2=</c>: a listed app may use only the topics after its name, none
/// when the list is blank; an app not listed may use every topic), <c>allowedTopics</c> (the only topics any app may
/// use) and <c>protectedTopics</c> (usable only by an app whose scope names them). The rules are daprd's, including
/// that a topic outside <c>allowedTopics</c> is refused whatever the scopes say.
/// </summary>
public sealed class TopicScopes
{
    public static readonly TopicScopes Open = new(null, null, null, []);

    private readonly HashSet<string>? _publishing;
    private readonly HashSet<string>? _subscribing;
    private readonly HashSet<string>? _allowed;
    private readonly HashSet<string> _protected;

    private TopicScopes(HashSet<string>? publishing, HashSet<string>? subscribing, HashSet<string>? allowed, HashSet<string> @protected)
    {
        _publishing = publishing;
        _subscribing = subscribing;
        _allowed = allowed;
        _protected = @protected;
    }

    public static TopicScopes Read(ComponentContext context, string appId)
    {
        var allowed = context.Get("allowedTopics") is { } a ? Topics(a) : null;
        var @protected = context.Get("protectedTopics") is { } p ? Topics(p) : [];
        var scopes = new TopicScopes(ScopeOf(context, "publishingScopes", appId), ScopeOf(context, "subscriptionScopes", appId), allowed, @protected);
        return scopes._publishing is null && scopes._subscribing is null && allowed is null && @protected.Count == 0 ? Open : scopes;
    }

    public bool CanPublish(string topic) => Allows(_publishing, topic);

    public bool CanSubscribe(string topic) => Allows(_subscribing, topic);

    private bool Allows(HashSet<string>? scoped, string topic)
    {
        if (_allowed is not null && !_allowed.Contains(topic))
        {
            return false;
        }
        if (scoped is null)
        {
            return !_protected.Contains(topic);
        }
        return scoped.Contains(topic);
    }

    /// <summary>The topics the app's entry lists (empty: none), or null when the app has no entry.</summary>
    private static HashSet<string>? ScopeOf(ComponentContext context, string field, string appId)
    {
        if (context.Get(field) is not { } value)
        {
            return null;
        }
        HashSet<string>? topics = null;
        foreach (var entry in value.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw context.Error(field, $"has the entry '{entry}', which is not app-id=topic1,topic2 (a blank topic list denies every topic)");
            }
            if (entry[..equals].Trim() == appId)
            {
                (topics ??= new HashSet<string>(StringComparer.Ordinal)).UnionWith(Topics(entry[(equals + 1)..]));
            }
        }
        return topics;
    }

    private static HashSet<string> Topics(string list) =>
        new(list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
}
