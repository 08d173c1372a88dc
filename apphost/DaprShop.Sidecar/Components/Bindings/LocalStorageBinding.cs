using System.Text;
using System.Text.Json;

namespace DaprShop.Sidecar.Components.Bindings;

/// <summary>
/// <c>bindings.localstorage</c>: files under <c>rootPath</c>. Operations create/get/list/delete with request
/// metadata <c>fileName</c>, answering as components-contrib does (create → <c>{"fileName": relative}</c>,
/// list → JSON array of absolute paths, delete → no data). Unlike daprd, which clamps escaping names into the
/// root, a name that would leave the root (<c>..</c>, absolute, or through a symlink) is refused.
/// </summary>
public sealed class LocalStorageBinding : IOutputBinding
{
    // Same system locations daprd refuses as a root.
    private static readonly string[] DisallowedRoots = ["/proc", "/sys", "/boot", "/var/run/secrets"];

    private readonly string _root;

    public LocalStorageBinding(ComponentContext context)
    {
        var root = Path.GetFullPath(context.Required("rootPath")).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        if (root.Length == 0)
        {
            root = Path.DirectorySeparatorChar.ToString();
        }
        if (File.Exists(root))
        {
            throw context.Error("rootPath", $"is a file, not a directory: {root}");
        }
        try
        {
            Directory.CreateDirectory(root);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw context.Error("rootPath", $"cannot be created: {ex.Message}");
        }
        _root = Resolve(root);
        if (DisallowedRoots.Any(p => _root == p || _root.StartsWith(p + "/", StringComparison.Ordinal)))
        {
            throw context.Error("rootPath", $"points to a disallowed location: {_root}");
        }
    }

    public IReadOnlyList<string> Capabilities { get; } = [];

    public IReadOnlyList<string> Operations { get; } = ["create", "get", "list", "delete"];

    public async Task<BindingResponse> InvokeAsync(BindingRequest request, CancellationToken cancellationToken)
    {
        var fileName = request.Metadata.GetValueOrDefault("fileName") ?? "";
        switch (request.Operation)
        {
            case "create":
            {
                if (fileName.Length == 0)
                {
                    fileName = Guid.NewGuid().ToString();
                }
                var path = Secure(fileName, allowRoot: false);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 4096, useAsync: true))
                {
                    await file.WriteAsync(Content(request.Data), cancellationToken);
                    // Durable before the caller hears "created".
                    file.Flush(flushToDisk: true);
                }
                var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["fileName"] = Path.GetRelativePath(_root, path) });
                return new BindingResponse(body, Empty, "application/json");
            }
            case "get":
            {
                var path = Secure(fileName, allowRoot: false);
                if (!File.Exists(path))
                {
                    throw new BindingRequestException($"file not found: {path}");
                }
                return new BindingResponse(await File.ReadAllBytesAsync(path, cancellationToken), Empty);
            }
            case "list":
            {
                var path = Secure(fileName, allowRoot: true);
                if (!Directory.Exists(path))
                {
                    throw new BindingRequestException(File.Exists(path)
                        ? $"unable to list files as the file specified is not a directory: {path}"
                        : $"error getting stats for path {path}: no such directory");
                }
                var files = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
                return new BindingResponse(JsonSerializer.SerializeToUtf8Bytes(files), Empty, "application/json");
            }
            case "delete":
            {
                var path = Secure(fileName, allowRoot: false);
                if (!File.Exists(path))
                {
                    throw new BindingRequestException($"error deleting file {path}: no such file");
                }
                File.Delete(path);
                return new BindingResponse(null, Empty);
            }
            default:
                throw new BindingRequestException($"unsupported operation {request.Operation}");
        }
    }

    private static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();

    /// <summary>
    /// As daprd: a JSON string (what the SDKs send for a string) is unquoted, then content that decodes as
    /// standard base64 is stored decoded (the documented way to upload binary files).
    /// </summary>
    private static byte[] Content(byte[] data)
    {
        data = BindingData.Unquote(data);
        // Go's decoder skips only CR and LF; .NET's also skips spaces and tabs, so rule those out first.
        if (data.Length > 0 && !data.Contains((byte)' ') && !data.Contains((byte)'\t'))
        {
            var buffer = new byte[data.Length];
            if (Convert.TryFromBase64String(Encoding.ASCII.GetString(data), buffer, out var written))
            {
                return buffer[..written];
            }
        }
        return data;
    }

    /// <summary>The absolute path for a caller's file name, refused when it would leave the root.</summary>
    private string Secure(string fileName, bool allowRoot)
    {
        if (Path.IsPathRooted(fileName))
        {
            throw new BindingRequestException($"fileName '{fileName}' is an absolute path; it must be relative to the binding's rootPath");
        }
        var full = Path.GetFullPath(Path.Combine(_root, fileName));
        if (!(allowRoot && full == _root) && !IsUnderRoot(full))
        {
            throw new BindingRequestException($"fileName '{fileName}' points outside the binding's rootPath");
        }
        // A symlink inside the root may still lead out of it: check where the existing part really goes.
        if (!(allowRoot && Resolve(full) == _root) && !IsUnderRoot(Resolve(full)))
        {
            throw new BindingRequestException($"fileName '{fileName}' points outside the binding's rootPath through a symbolic link");
        }
        return full;
    }

    private bool IsUnderRoot(string path) =>
        path.StartsWith(_root.EndsWith(Path.DirectorySeparatorChar) ? _root : _root + Path.DirectorySeparatorChar, OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    /// <summary>The path with every symbolic link along its existing part followed.</summary>
    private static string Resolve(string path)
    {
        var existing = path;
        var rest = new Stack<string>();
        while (!File.Exists(existing) && !Directory.Exists(existing) && Path.GetDirectoryName(existing) is { } parent)
        {
            rest.Push(Path.GetFileName(existing));
            existing = parent;
        }
        var resolved = ResolveExisting(existing, hops: 0);
        while (rest.Count > 0)
        {
            resolved = Path.Combine(resolved, rest.Pop());
        }
        return resolved;
    }

    private static string ResolveExisting(string path, int hops)
    {
        if (hops > 40 || Path.GetDirectoryName(path) is not { } parent)
        {
            return path;
        }
        var resolvedParent = ResolveExisting(parent, hops);
        var candidate = Path.Combine(resolvedParent, Path.GetFileName(path));
        FileSystemInfo info = Directory.Exists(candidate) ? new DirectoryInfo(candidate) : new FileInfo(candidate);
        if (info.LinkTarget is { } target)
        {
            var next = Path.GetFullPath(Path.IsPathRooted(target) ? target : Path.Combine(resolvedParent, target));
            return ResolveExisting(next, hops + 1);
        }
        return candidate;
    }
}
