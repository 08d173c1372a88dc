using System.Globalization;
using DaprShop.Sidecar.Hosting;
using DaprShop.Sidecar.Resources;

namespace DaprShop.Sidecar.Components;

/// <summary>What every component is: a named instance of a Dapr component type.</summary>
public interface IComponent : IAsyncDisposable
{
    /// <summary>Capabilities reported by <c>/v1.0/metadata</c> (e.g. ETAG, TRANSACTIONAL, TTL, QUERY_API).</summary>
    IReadOnlyList<string> Capabilities { get; }

    /// <summary>Opens connections, creates tables, checks settings. Failing here stops the sidecar unless <c>ignoreErrors</c>.</summary>
    Task InitAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    ValueTask IAsyncDisposable.DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>
/// A component's resolved metadata (secrets and environment references already filled in) plus the helpers
/// to read it. Every error names the file, the component and the field, as <see cref="SidecarStartupException"/>.
/// </summary>
public sealed class ComponentContext(ComponentResource resource, IReadOnlyDictionary<string, string> metadata, SidecarOptions options, ILoggerFactory loggers)
{
    public ComponentResource Resource { get; } = resource;
    public IReadOnlyDictionary<string, string> Metadata { get; } = metadata;
    public SidecarOptions Options { get; } = options;
    public string Name => Resource.Name;
    public ILogger Logger { get; } = loggers.CreateLogger($"DaprShop.Sidecar.Components.{resource.Type}");

    public SidecarStartupException Error(string field, string problem) =>
        new($"{Resource.Origin.File}: component '{Resource.Name}' ({Resource.Type}): metadata '{field}' {problem}");

    public string? Get(string name) =>
        Metadata.TryGetValue(name, out var v) && !string.IsNullOrEmpty(v) ? v : null;

    public string Required(string name) => Get(name) ?? throw Error(name, "is required");

    public string String(string name, string fallback) => Get(name) ?? fallback;

    public int Int(string name, int fallback)
    {
        var v = Get(name);
        if (v is null)
        {
            return fallback;
        }
        return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw Error(name, $"must be an integer, not '{v}'");
    }

    public bool Bool(string name, bool fallback)
    {
        var v = Get(name);
        if (v is null)
        {
            return fallback;
        }
        return v switch
        {
            _ when bool.TryParse(v, out var b) => b,
            "1" or "y" or "yes" or "on" => true,
            "0" or "n" or "no" or "off" => false,
            _ => throw Error(name, $"must be true or false, not '{v}'"),
        };
    }

    /// <summary>A duration in Go or ISO 8601 form; a bare number means <paramref name="bareNumberUnit"/>.</summary>
    public TimeSpan Duration(string name, TimeSpan fallback, TimeSpan? bareNumberUnit = null)
    {
        var v = Get(name);
        if (v is null)
        {
            return fallback;
        }
        if (bareNumberUnit is { } unit && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var n))
        {
            return unit * n;
        }
        return Durations.TryParse(v, out var d) ? d : throw Error(name, $"must be a duration such as 5s or 1m, not '{v}'");
    }

    /// <summary>Dapr's SQL components take table names into SQL text: allow only plain identifiers.</summary>
    public string Identifier(string name, string fallback)
    {
        var v = String(name, fallback);
        return System.Text.RegularExpressions.Regex.IsMatch(v, "^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?$")
            ? v
            : throw Error(name, $"must be a plain SQL identifier, not '{v}'");
    }
}
