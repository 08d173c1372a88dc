using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using DaprShop.Sidecar.Hosting;

namespace DaprShop.Sidecar.Mesh;

/// <summary>One running sidecar of the local mesh, as it announces itself.</summary>
public sealed record MeshInstance(
    [property: JsonPropertyName("appId")] string AppId,
    [property: JsonPropertyName("namespace")] string Namespace,
    [property: JsonPropertyName("instanceId")] string InstanceId,
    [property: JsonPropertyName("pid")] int Pid,
    [property: JsonPropertyName("address")] string Address,
    [property: JsonPropertyName("httpPort")] int HttpPort,
    [property: JsonPropertyName("grpcPort")] int GrpcPort,
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("subscriptions")] IReadOnlyList<string> Subscriptions,
    [property: JsonPropertyName("actorTypes")] IReadOnlyList<string> ActorTypes,
    [property: JsonPropertyName("startedAt")] DateTimeOffset StartedAt)
{
    [JsonIgnore]
    public Uri BaseAddress => new($"http://{Address}:{HttpPort}");

    public static string SubscriptionKey(string pubsub, string topic) => $"{pubsub}/{topic}";
}

/// <summary>
/// Name resolution for the local mesh. Each sidecar writes a small file into a shared folder (mode 0700) naming its
/// app id, ports and a random token that other sidecars must present on internal calls; readers skip files whose
/// process is gone. It plays the part of daprd's mDNS resolver and needs no server. See docs/sidecar.md.
/// </summary>
public sealed class MeshRegistry : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly SidecarOptions _options;
    private readonly ILogger<MeshRegistry> _logger;
    private readonly ConcurrentDictionary<string, int> _roundRobin = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly string _file;
    // One reference, so that a reader never sees the time of one read with the list of another (a torn struct).
    private volatile Snapshot _cache = Snapshot.Empty;
    private int _refreshing;
    private volatile Replicas? _replicas;
    private MeshInstance _self;
    private bool _registered;

    public MeshRegistry(SidecarOptions options, ILogger<MeshRegistry> logger)
    {
        _options = options;
        _logger = logger;
        var instanceId = Guid.NewGuid().ToString("N");
        _self = new MeshInstance(options.AppId, options.Namespace, instanceId, Environment.ProcessId,
            "127.0.0.1", options.DaprHttpPort, options.DaprGrpcPort,
            Convert.ToHexString(RandomNumberGenerator.GetBytes(24)), [], [], DateTimeOffset.UtcNow);
        _file = Path.Combine(options.MeshDirectory, $"{options.AppId}~{instanceId}.json");
    }

    public MeshInstance Self => _self;

    /// <summary>Announces this sidecar; called once its HTTP port accepts connections.</summary>
    public void Register()
    {
        Directory.CreateDirectory(_options.MeshDirectory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_options.MeshDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        RemoveStaleFiles();
        _registered = true;
        Write();
    }

    public void UpdateSubscriptions(IEnumerable<string> keys) => Update(_self with { Subscriptions = keys.Distinct().Order().ToList() });

    public void UpdateActorTypes(IEnumerable<string> types) => Update(_self with { ActorTypes = types.Distinct().Order().ToList() });

    private void Update(MeshInstance next)
    {
        lock (_gate)
        {
            _self = next;
            if (_registered)
            {
                Write();
            }
        }
    }

    private void Write()
    {
        var tmp = _file + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(_self, Json));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        File.Move(tmp, _file, overwrite: true);
        Invalidate();
    }

    public void Unregister()
    {
        _registered = false;
        try
        {
            File.Delete(_file);
        }
        catch (IOException ex)
        {
            _logger.LogWarning(ex, "Could not remove mesh registration {File}", _file);
        }
    }

    public void Invalidate() => _cache = Snapshot.Empty;

    /// <summary>
    /// All live sidecars of the mesh, this one included. Cached: resolution is on every invocation's path, so a stale
    /// list (older than half a second) is re-read in the background while callers go on with it; only an empty or
    /// invalidated cache (first call, an unreachable replica) is read on the caller's own time.
    /// </summary>
    public IReadOnlyList<MeshInstance> Instances()
    {
        var cache = _cache;
        if (DateTime.UtcNow - cache.ReadAt < TimeSpan.FromMilliseconds(500))
        {
            return cache.Instances;
        }
        if (cache.ReadAt == DateTime.MinValue)
        {
            return Refresh();
        }
        if (Interlocked.Exchange(ref _refreshing, 1) == 0)
        {
            _ = Task.Run(() =>
            {
                try
                {
                    Refresh();
                }
                catch (IOException ex)
                {
                    _logger.LogDebug("Reading the mesh folder failed: {Error}", ex.Message);
                }
                finally
                {
                    Volatile.Write(ref _refreshing, 0);
                }
            });
        }
        return cache.Instances;
    }

    private List<MeshInstance> Refresh()
    {
        var list = new List<MeshInstance>();
        if (Directory.Exists(_options.MeshDirectory))
        {
            foreach (var file in Directory.EnumerateFiles(_options.MeshDirectory, "*.json"))
            {
                var instance = TryRead(file);
                if (instance is not null && (instance.InstanceId == _self.InstanceId || IsAlive(instance.Pid)))
                {
                    list.Add(instance.InstanceId == _self.InstanceId ? _self : instance);
                }
            }
        }
        if (!list.Any(i => i.InstanceId == _self.InstanceId) && _registered)
        {
            list.Add(_self);
        }
        _cache = new Snapshot(DateTime.UtcNow, list);
        return list;
    }

    /// <summary>The live replicas of an app id in this namespace, ordered by instance id; computed once per read of the mesh.</summary>
    public IReadOnlyList<MeshInstance> InstancesOf(string appId)
    {
        var all = Instances();
        var replicas = _replicas;
        if (replicas is null || !ReferenceEquals(replicas.Source, all))
        {
            _replicas = replicas = new Replicas(all);
        }
        return replicas.ByApp.GetOrAdd(appId, static (id, state) =>
            state.All.Where(i => i.AppId == id && i.Namespace == state.Namespace).OrderBy(i => i.InstanceId, StringComparer.Ordinal).ToArray(),
            (All: all, _options.Namespace));
    }

    /// <summary>Round-robin over the live replicas of an app id, as daprd's resolvers spread calls.</summary>
    public MeshInstance? Pick(string appId, IReadOnlyCollection<string>? exclude = null)
    {
        var replicas = InstancesOf(appId);
        if (replicas.Count == 0)
        {
            // An app that has just started is not in a cached list yet: read the folder now rather than fail the call.
            Invalidate();
            replicas = InstancesOf(appId);
        }
        var candidates = exclude is { Count: > 0 } ? replicas.Where(i => !exclude.Contains(i.InstanceId)).ToList() : replicas;
        if (candidates.Count == 0)
        {
            return null;
        }
        var n = _roundRobin.AddOrUpdate(appId, 0, (_, v) => unchecked(v + 1));
        return candidates[(int)((uint)n % (uint)candidates.Count)];
    }

    public bool IsSelf(MeshInstance instance) => instance.InstanceId == _self.InstanceId;

    /// <summary>Checks a token presented on an internal call against this sidecar's own.</summary>
    public bool IsValidToken(string? token) =>
        token is not null && CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(token), System.Text.Encoding.ASCII.GetBytes(_self.Token));

    private void RemoveStaleFiles()
    {
        foreach (var file in Directory.EnumerateFiles(_options.MeshDirectory, "*.json"))
        {
            var instance = TryRead(file);
            if (instance is null || !IsAlive(instance.Pid))
            {
                try
                {
                    File.Delete(file);
                }
                catch (IOException)
                {
                    // Another sidecar removed it first.
                }
            }
        }
    }

    private static MeshInstance? TryRead(string file)
    {
        try
        {
            return JsonSerializer.Deserialize<MeshInstance>(File.ReadAllText(file), Json);
        }
        catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
        {
            return null; // being written or removed right now
        }
    }

    private static bool IsAlive(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            return Directory.Exists($"/proc/{pid}");
        }
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public void Dispose() => Unregister();

    private sealed record Snapshot(DateTime ReadAt, List<MeshInstance> Instances)
    {
        public static Snapshot Empty => new(DateTime.MinValue, []);
    }

    /// <summary>Replicas per app id, derived from one list of instances (the list <see cref="Instances"/> returned).</summary>
    private sealed class Replicas(IReadOnlyList<MeshInstance> source)
    {
        public IReadOnlyList<MeshInstance> Source { get; } = source;
        public ConcurrentDictionary<string, MeshInstance[]> ByApp { get; } = new(StringComparer.Ordinal);
    }
}
