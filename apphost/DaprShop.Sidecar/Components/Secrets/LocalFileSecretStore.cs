using System.Text.Json;

namespace DaprShop.Sidecar.Components.Secrets;

/// <summary>
/// <c>secretstores.local.file</c>: secrets read once at start from a JSON file. Nested objects and arrays are
/// flattened with <c>nestedSeparator</c> (array items by index); with <c>multiValued</c> each top-level key is one
/// secret whose nested values form its map, as in components-contrib.
/// </summary>
public sealed class LocalFileSecretStore : ISecretStore
{
    // A secret's value map; single-valued secrets map their own name to the value.
    private readonly Dictionary<string, IReadOnlyDictionary<string, string>> _secrets = new(StringComparer.Ordinal);

    public LocalFileSecretStore(ComponentContext context)
    {
        var file = context.Required("secretsFile");
        var separator = context.String("nestedSeparator", ":");
        var multiValued = context.Bool("multiValued", false);
        // Relative paths are relative to the sidecar's working directory, as for daprd.
        var path = Path.GetFullPath(file);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            throw context.Error("secretsFile", $"cannot be read as JSON ({path}): {ex.Message}");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw context.Error("secretsFile", $"must hold a JSON object ({path})");
            }
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!multiValued)
                {
                    var flat = new Dictionary<string, string>(StringComparer.Ordinal);
                    Flatten(property.Value, property.Name, separator, flat);
                    foreach (var (key, value) in flat)
                    {
                        // First one wins on a clash such as {"a:b": 1, "a": {"b": 2}}, as in daprd.
                        _secrets.TryAdd(key, new Dictionary<string, string> { [key] = value });
                    }
                }
                else if (property.Value.ValueKind == JsonValueKind.String)
                {
                    _secrets.TryAdd(property.Name, new Dictionary<string, string> { [property.Name] = property.Value.GetString()! });
                }
                else if (property.Value.ValueKind == JsonValueKind.Object)
                {
                    var values = new Dictionary<string, string>(StringComparer.Ordinal);
                    foreach (var inner in property.Value.EnumerateObject())
                    {
                        Flatten(inner.Value, inner.Name, separator, values);
                    }
                    _secrets.TryAdd(property.Name, values);
                }
                // Other top-level values (numbers, arrays) are not secrets in multi-valued mode, as in daprd.
            }
        }
        Capabilities = multiValued ? ["MULTIPLE_KEY_VALUES_PER_SECRET"] : [];
    }

    public IReadOnlyList<string> Capabilities { get; }

    private static void Flatten(JsonElement element, string path, string separator, Dictionary<string, string> into)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Flatten(property.Value, path + separator + property.Name, separator, into);
                }
                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Flatten(item, path + separator + i++, separator, into);
                }
                break;
            case JsonValueKind.String:
                into.TryAdd(path, element.GetString()!);
                break;
            case JsonValueKind.Null:
                into.TryAdd(path, "");
                break;
            default:
                into.TryAdd(path, element.GetRawText());
                break;
        }
    }

    public Task<IReadOnlyDictionary<string, string>?> GetAsync(string name, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken) =>
        Task.FromResult(_secrets.GetValueOrDefault(name));

    public Task<IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>> GetAllAsync(IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>>(_secrets);
}
