using DaprShop.Sidecar.Hosting;
using YamlDotNet.RepresentationModel;

namespace DaprShop.Sidecar.Resources;

/// <summary>
/// Small typed reads over YamlDotNet's node tree. Every failure names the file, the resource and the field
/// (e.g. <c>spec.metadata[2].name</c>), because a silent default is worse than a refusal to start.
/// </summary>
internal readonly struct YamlNodes(string file, string resource)
{
    public string File => file;

    public SidecarStartupException Error(string field, string problem) =>
        new($"{file}: {resource}: field '{field}' {problem}");

    public YamlMappingNode? Map(YamlMappingNode parent, string key, string path, bool required = false)
    {
        var node = Child(parent, key);
        return node switch
        {
            null when required => throw Error(Join(path, key), "is required"),
            null => null,
            YamlMappingNode map => map,
            YamlScalarNode s when IsNull(s) && !required => null,
            _ => throw Error(Join(path, key), "must be a mapping"),
        };
    }

    public YamlSequenceNode? Seq(YamlMappingNode parent, string key, string path)
    {
        var node = Child(parent, key);
        return node switch
        {
            null => null,
            YamlSequenceNode seq => seq,
            YamlScalarNode s when IsNull(s) => null,
            _ => throw Error(Join(path, key), "must be a list"),
        };
    }

    public string? Str(YamlMappingNode parent, string key, string path, bool required = false)
    {
        var node = Child(parent, key);
        switch (node)
        {
            case null:
            case YamlScalarNode s0 when IsNull(s0):
                return required ? throw Error(Join(path, key), "is required") : null;
            case YamlScalarNode s:
                if (required && string.IsNullOrWhiteSpace(s.Value))
                {
                    throw Error(Join(path, key), "is required and may not be empty");
                }
                return s.Value;
            default:
                throw Error(Join(path, key), "must be a scalar value");
        }
    }

    public bool Bool(YamlMappingNode parent, string key, string path, bool fallback = false)
    {
        var s = Str(parent, key, path);
        if (s is null)
        {
            return fallback;
        }
        return bool.TryParse(s, out var b) ? b : throw Error(Join(path, key), $"must be true or false, not '{s}'");
    }

    public int? Int(YamlMappingNode parent, string key, string path)
    {
        var s = Str(parent, key, path);
        if (s is null)
        {
            return null;
        }
        return int.TryParse(s, out var n) ? n : throw Error(Join(path, key), $"must be an integer, not '{s}'");
    }

    public List<string> StrList(YamlMappingNode parent, string key, string path)
    {
        var seq = Seq(parent, key, path);
        if (seq is null)
        {
            return [];
        }
        var list = new List<string>();
        var i = 0;
        foreach (var item in seq.Children)
        {
            if (item is not YamlScalarNode { Value: { } v })
            {
                throw Error($"{Join(path, key)}[{i}]", "must be a string");
            }
            list.Add(v);
            i++;
        }
        return list;
    }

    public static YamlNode? Child(YamlMappingNode parent, string key) =>
        parent.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

    private static bool IsNull(YamlScalarNode s) =>
        s.Style == YamlDotNet.Core.ScalarStyle.Plain && (s.Value is null or "" or "~" or "null");

    public static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";
}
