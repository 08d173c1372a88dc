using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DaprShop.Sidecar.Components.State;
using DaprShop.Sidecar.Hosting;
using DaprShop.Sidecar.Mesh;
using DaprShop.Sidecar.Resiliency;

namespace DaprShop.Sidecar.Runtime.Actors;

/// <summary>A reminder registration: <c>{dueTime, period, ttl, data}</c>.</summary>
/// <param name="Overwrite">
/// As daprd's: absent or true replaces a reminder of the same name (its schedule starts again); false refuses to, with
/// <c>ERR_ACTOR_REMINDER_ALREADY_EXISTS</c>.
/// </param>
public sealed record ActorReminderRequest(string? DueTime, string? Period, string? Ttl, JsonElement? Data, bool? Overwrite = null);

/// <summary>A reminder as stored, in daprd's JSON shape (see docs/actors.md).</summary>
public sealed record StoredReminder(
    string ActorId,
    string ActorType,
    string Name,
    string? Data,
    string Period,
    DateTimeOffset RegisteredTime,
    string DueTime,
    DateTimeOffset? ExpirationTime)
{
    public string Key => $"{ActorType}||{ActorId}||{Name}";

    public JsonObject ToJson()
    {
        var o = new JsonObject
        {
            ["registeredTime"] = ActorTimes.Rfc3339(RegisteredTime),
        };
        if (ExpirationTime is { } e)
        {
            o["expirationTime"] = ActorTimes.Rfc3339(e);
        }
        if (Period.Length > 0)
        {
            o["period"] = Period;
        }
        if (Data is not null && Data != "null")
        {
            o["data"] = JsonNode.Parse(Data);
        }
        o["actorID"] = ActorId;
        o["actorType"] = ActorType;
        o["name"] = Name;
        if (DueTime.Length > 0)
        {
            o["dueTime"] = DueTime;
        }
        return o;
    }

    /// <summary>
    /// The reminder as daprd 1.18 describes it on GET, read back from its Scheduler job rather than from this
    /// layout: the period as the job's schedule (<c>@every 1h0m0s</c>, repetitions not shown), the due time as the
    /// caller wrote it, the expiry as <c>ttl</c> in RFC 3339, and neither name nor registration time.
    /// </summary>
    public ReminderDescription Describe()
    {
        string? schedule = null;
        if (Period.Length > 0)
        {
            var period = ActorTimes.ParsePeriod(Period);
            schedule = period.Years == 0 && period.Months == 0
                ? "@every " + Durations.ToGoString(period.Duration + TimeSpan.FromDays(period.Days))
                : Period; // calendar steps have no @every form; the Scheduler refuses them at creation anyway
        }
        return new ReminderDescription(ActorType, ActorId, DueTime.Length > 0 ? DueTime : null, schedule,
            ExpirationTime is { } e ? ActorTimes.Rfc3339(e) : null, Data is null or "null" ? null : Data);
    }

    public static StoredReminder FromJson(JsonElement e)
    {
        string S(string n) => e.TryGetProperty(n, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
        DateTimeOffset? T(string n) => S(n) is { Length: > 0 } s ? DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal) : null;
        return new StoredReminder(S("actorID"), S("actorType"), S("name"),
            e.TryGetProperty("data", out var d) && d.ValueKind != JsonValueKind.Null ? d.GetRawText() : null,
            S("period"), T("registeredTime") ?? DateTimeOffset.UnixEpoch, S("dueTime"), T("expirationTime"));
    }
}

/// <summary>A reminder as <c>GET .../reminders/{name}</c> answers it; <see cref="Data"/> is JSON text.</summary>
public sealed record ReminderDescription(string ActorType, string ActorId, string? DueTime, string? Period, string? Ttl, string? Data);

/// <summary>
/// Actor reminders, persisted in the actor state store in daprd's (pre-Scheduler) layout: one JSON array per actor
/// type at <c>actors||{type}</c>, or split over <c>remindersStoragePartitions</c> partitions listed by the metadata
/// record <c>actors||{type}||metadata</c>. Every sidecar hosting a type keeps the type's reminders in memory and
/// fires those whose actor id it hosts; a firing's progress (last fire time, repetitions left) is kept at
/// <c>{type}||{id}||{name}</c> so a restart of the sidecar or the app neither loses nor repeats it.
/// </summary>
public sealed class ActorReminders : IAsyncDisposable
{
    private static readonly TimeSpan ReloadInterval = TimeSpan.FromSeconds(3);
    private readonly ActorRuntime _runtime;
    private readonly ActorPlacement _placement;
    private readonly ComponentHost _components;
    private readonly MeshRegistry _mesh;
    private readonly ResiliencyEngine _resiliency;
    private readonly IHttpClientFactory _httpClients;
    private readonly TimeProvider _time;
    private readonly Tracing.ActorMetrics _metrics;
    private readonly ILogger<ActorReminders> _logger;
    private readonly ConcurrentDictionary<string, Scheduled> _scheduled = new(StringComparer.Ordinal);

    // Local creates and deletes a reload must not undo with a stale read (see ReminderChangeLog).
    private readonly ReminderChangeLog _changes;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _wake = new(0);
    private Task? _loop;

    private sealed class Scheduled(StoredReminder reminder, ActorPeriod period, DateTimeOffset next, int repeatsLeft)
    {
        public StoredReminder Reminder { get; set; } = reminder;
        public ActorPeriod Period { get; set; } = period;
        public DateTimeOffset Next { get; set; } = next;
        public int RepeatsLeft { get; set; } = repeatsLeft;
        public int Firing;
    }

    public ActorReminders(ActorRuntime runtime, ActorPlacement placement, ComponentHost components, MeshRegistry mesh,
        ResiliencyEngine resiliency, IHttpClientFactory httpClients, Tracing.ActorMetrics metrics, TimeProvider time, ILogger<ActorReminders> logger)
    {
        _metrics = metrics;
        metrics.CountRemindersWith(() => _scheduled.Values.GroupBy(s => s.Reminder.ActorType).Select(g => (g.Key, g.Count())));
        _runtime = runtime;
        _placement = placement;
        _components = components;
        _mesh = mesh;
        _resiliency = resiliency;
        _httpClients = httpClients;
        _time = time;
        _logger = logger;
        _changes = new ReminderChangeLog(time);
        runtime.HostStarted += StartAsync;
    }

    private StateStoreInfo Store => _components.ActorStateStore ?? throw DaprErrors.ActorRuntimeNotFound();

    private async Task StartAsync(CancellationToken ct)
    {
        foreach (var type in _runtime.Config.Entities)
        {
            await ReloadAsync(type, ct);
        }
        _loop = Task.Run(() => LoopAsync(_stopping.Token), CancellationToken.None);
    }

    // ---------------------------------------------------------------- API

    public async Task CreateAsync(string actorType, string actorId, string name, ActorReminderRequest request, CancellationToken ct)
    {
        EnsureHostedType(actorType);
        var now = _time.GetUtcNow();
        StoredReminder reminder;
        ActorPeriod period;
        DateTimeOffset first;
        try
        {
            var registered = string.IsNullOrEmpty(request.DueTime) ? now : ActorTimes.ParseTime(request.DueTime, now);
            period = ActorTimes.ParsePeriod(request.Period);
            if (period.Years != 0 || period.Months != 0 || period.Days != 0)
            {
                // daprd 1.18 turns a reminder's period into a Scheduler job schedule, which has no calendar units.
                throw new FormatException($"unsupported period format: {request.Period}");
            }
            DateTimeOffset? expires = null;
            if (!string.IsNullOrEmpty(request.Ttl))
            {
                expires = ActorTimes.ParseTime(request.Ttl, registered);
                if (expires < now || expires < registered)
                {
                    throw new FormatException($"reminder {actorType}||{actorId}||{name} has already expired: dueTime: {ActorTimes.Rfc3339(registered)} TTL: {request.Ttl}");
                }
            }
            var data = request.Data is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } d ? JsonNode.Parse(d.GetRawText())!.ToJsonString() : null;
            // Stored with whole seconds, as daprd stores it; the first firing keeps full precision in memory.
            first = registered;
            reminder = new StoredReminder(actorId, actorType, name, data, period.Value, ActorTimes.TruncateToSeconds(registered), request.DueTime ?? "",
                expires is { } x ? ActorTimes.TruncateToSeconds(x) : null);
        }
        catch (FormatException ex)
        {
            throw DaprErrors.ActorReminderCreate(ex.Message, ex);
        }
        _changes.Begin(reminder.Key);
        var stored = false;
        try
        {
            await UpdateListAsync(actorType, actorId, name, list =>
            {
                if (list.RemoveAll(r => r.ActorId == actorId && r.Name == name) > 0 && request.Overwrite == false)
                {
                    throw DaprErrors.ActorReminderAlreadyExists(name);
                }
                list.Add(reminder);
            }, ct);
            stored = true;
        }
        catch (Exception ex) when (ex is not DaprApiException and not OperationCanceledException)
        {
            throw DaprErrors.ActorReminderCreate(ex.Message, ex);
        }
        finally
        {
            _changes.End(reminder.Key, () =>
            {
                if (stored)
                {
                    _scheduled[reminder.Key] = new Scheduled(reminder, period, first, period.Repeats);
                }
            });
        }
        _wake.Release();
        await NotifyPeersAsync(actorType);
    }

    public async Task<StoredReminder?> GetAsync(string actorType, string actorId, string name, CancellationToken ct)
    {
        EnsureHostedType(actorType);
        try
        {
            var (_, list) = await ReadAllAsync(actorType, ct);
            return list.FirstOrDefault(r => r.ActorId == actorId && r.Name == name);
        }
        catch (Exception ex) when (ex is not DaprApiException and not OperationCanceledException)
        {
            throw DaprErrors.ActorReminderGet(ex.Message, ex);
        }
    }

    public async Task DeleteAsync(string actorType, string actorId, string name, CancellationToken ct)
    {
        EnsureHostedType(actorType);
        try
        {
            await RemoveAsync(actorType, actorId, name, ct);
        }
        catch (Exception ex) when (ex is not DaprApiException and not OperationCanceledException)
        {
            throw DaprErrors.ActorReminderDelete(ex.Message, ex);
        }
        await NotifyPeersAsync(actorType);
    }

    /// <summary>The type's reminders, or one actor's when <paramref name="actorId"/> is given (gRPC <c>ListActorReminders</c>).</summary>
    public async Task<IReadOnlyList<StoredReminder>> ListAsync(string actorType, string? actorId, CancellationToken ct)
    {
        EnsureHostedType(actorType);
        var (_, list) = await ReadAllAsync(actorType, ct);
        return [.. list.Where(r => actorId is null || r.ActorId == actorId).OrderBy(r => r.ActorId, StringComparer.Ordinal).ThenBy(r => r.Name, StringComparer.Ordinal)];
    }

    /// <summary>
    /// Deletes every reminder of the type, or of one actor when <paramref name="actorId"/> is given (gRPC
    /// <c>UnregisterActorRemindersByType</c>). Each goes as a single delete does, so a reminder created meanwhile under
    /// another name survives and one firing now stops.
    /// </summary>
    public async Task DeleteByActorIdAsync(string actorType, string? actorId, CancellationToken ct)
    {
        EnsureHostedType(actorType);
        try
        {
            var (_, list) = await ReadAllAsync(actorType, ct);
            foreach (var r in list.Where(r => actorId is null || r.ActorId == actorId))
            {
                await RemoveAsync(actorType, r.ActorId, r.Name, ct);
            }
        }
        catch (Exception ex) when (ex is not DaprApiException and not OperationCanceledException)
        {
            throw DaprErrors.ActorReminderDelete(ex.Message, ex);
        }
        await NotifyPeersAsync(actorType);
    }

    private async Task RemoveAsync(string actorType, string actorId, string name, CancellationToken ct)
    {
        var key = $"{actorType}||{actorId}||{name}";
        // Out of _scheduled at once, so it stops firing; and again once stored, in case a reload put a stale copy back.
        _changes.Begin(key, () => _scheduled.TryRemove(key, out _));
        try
        {
            await UpdateListAsync(actorType, actorId, name, list => list.RemoveAll(r => r.ActorId == actorId && r.Name == name), ct);
        }
        finally
        {
            _changes.End(key, () => _scheduled.TryRemove(key, out _));
        }
    }

    private void EnsureHostedType(string actorType)
    {
        _ = Store;
        if (!_placement.HostsTypeLocally(actorType))
        {
            throw DaprErrors.ActorReminderNonHosted();
        }
    }

    // ---------------------------------------------------------------- firing

    private async Task LoopAsync(CancellationToken ct)
    {
        var lastReload = _time.GetUtcNow();
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var now = _time.GetUtcNow();
                if (now - lastReload >= ReloadInterval)
                {
                    lastReload = now;
                    foreach (var type in _runtime.Config.Entities)
                    {
                        await ReloadAsync(type, ct);
                    }
                }
                var nextWake = lastReload + ReloadInterval;
                foreach (var s in _scheduled.Values)
                {
                    if (s.Next <= now)
                    {
                        if (_placement.IsLocal(s.Reminder.ActorType, s.Reminder.ActorId) && Interlocked.CompareExchange(ref s.Firing, 1, 0) == 0)
                        {
                            _ = Task.Run(() => FireAsync(s, ct), CancellationToken.None);
                        }
                    }
                    else if (s.Next < nextWake)
                    {
                        nextWake = s.Next;
                    }
                }
                var wait = nextWake - _time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await _wake.WaitAsync(wait < TimeSpan.FromMilliseconds(5) ? TimeSpan.FromMilliseconds(5) : wait, ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _logger.LogWarning(ex, "Reminder loop error");
                await Task.Delay(500, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>The Scheduler's default failure policy for a job: constant, 1 s apart, 3 retries.</summary>
    private const int FailureRetries = 3;
    private static readonly TimeSpan FailureRetryInterval = TimeSpan.FromSeconds(1);

    private bool IsCurrent(Scheduled s) => _scheduled.TryGetValue(s.Reminder.Key, out var current) && ReferenceEquals(current, s);

    private async Task FireAsync(Scheduled s, CancellationToken ct)
    {
        var r = s.Reminder;
        try
        {
            var now = _time.GetUtcNow();
            if (r.ExpirationTime is { } expires && now >= expires)
            {
                _logger.LogDebug("Reminder {Key} expired", r.Key);
                await RemoveAsync(r.ActorType, r.ActorId, r.Name, ct);
                return;
            }
            var path = $"/actors/{Uri.EscapeDataString(r.ActorType)}/{Uri.EscapeDataString(r.ActorId)}/method/remind/{Uri.EscapeDataString(r.Name)}";
            // daprd 1.18 fires reminders from its Scheduler, whose callback carries the data only: dueTime and period
            // reach the app empty.
            var body = Encoding.UTF8.GetBytes(new JsonObject
            {
                ["data"] = r.Data is null ? null : JsonNode.Parse(r.Data),
                ["dueTime"] = "",
                ["period"] = "",
            }.ToJsonString());
            var cancel = false;
            // A failed callback is tried again, as the Scheduler's default failure policy does (every second, three
            // more times), so a reminder the app could not take once is not lost.
            string? failure;
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    var response = await _runtime.RunTurnAsync(r.ActorType, r.ActorId, _runtime.ReentrancyFor(r.ActorType),
                        c => _runtime.CallAppAsync(HttpMethod.Put, path, [], body, "application/json", c), ct);
                    cancel = response.HasHeader(ActorHeaders.ReminderCancel);
                    failure = response.StatusCode == 200 || cancel ? null : $"the app answered {response.StatusCode}";
                }
                catch (DaprApiException ex)
                {
                    failure = ex.Message;
                }
                if (failure is null)
                {
                    break;
                }
                if (attempt >= FailureRetries || !IsCurrent(s))
                {
                    _logger.LogWarning("Reminder {Key} failed ({Error}); given up after {Attempts} attempts", r.Key, failure, attempt + 1);
                    break;
                }
                _logger.LogWarning("Reminder {Key} failed ({Error}); trying again in {Delay}", r.Key, failure, FailureRetryInterval);
                await Task.Delay(FailureRetryInterval, _time, ct);
            }
            _metrics.ReminderFired(r.ActorType, failure is null);
            if (!IsCurrent(s))
            {
                return; // deleted or replaced while it ran
            }
            if (s.RepeatsLeft > 0)
            {
                s.RepeatsLeft--;
            }
            if (cancel || !s.Period.IsPeriodic || s.RepeatsLeft == 0)
            {
                await RemoveAsync(r.ActorType, r.ActorId, r.Name, ct);
                await NotifyPeersAsync(r.ActorType);
                return;
            }
            var fired = s.Next;
            var next = s.Period.Following(fired);
            var after = _time.GetUtcNow();
            while (next <= after)
            {
                next = s.Period.Following(next); // ticks missed while down fire once, not in a burst
            }
            s.Next = next;
            await WriteTrackAsync(r, fired, s.RepeatsLeft, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "Reminder {Key} could not be updated after firing", r.Key);
        }
        finally
        {
            Interlocked.Exchange(ref s.Firing, 0);
            _wake.Release();
        }
    }

    /// <summary>Re-reads a type's reminders from the store: new ones are scheduled, removed ones dropped.</summary>
    public async Task ReloadAsync(string actorType, CancellationToken ct)
    {
        var since = _changes.Mark();
        List<StoredReminder> list;
        try
        {
            (_, list) = await ReadAllAsync(actorType, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.LogWarning("Could not load reminders of {Type}: {Error}", actorType, ex.Message);
            return;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var reminder in list)
        {
            seen.Add(reminder.Key);
            if (_scheduled.TryGetValue(reminder.Key, out var existing) && existing.Reminder == reminder)
            {
                // Another replica fires the ones it hosts: follow its progress so a take-over does not fire a tick twice.
                if (existing.Next <= _time.GetUtcNow() && !_placement.IsLocal(actorType, reminder.ActorId)
                    && await ReadTrackAsync(reminder, ct) is { LastFired: { } fired } t)
                {
                    existing.Next = existing.Period.Following(fired);
                    existing.RepeatsLeft = t.RepetitionLeft;
                }
                continue;
            }
            ActorPeriod period;
            try
            {
                period = ActorTimes.ParsePeriod(reminder.Period);
            }
            catch (FormatException ex)
            {
                _logger.LogWarning("Reminder {Key} has an invalid period: {Error}", reminder.Key, ex.Message);
                continue;
            }
            var next = reminder.RegisteredTime;
            var repeats = period.Repeats;
            if (await ReadTrackAsync(reminder, ct) is { } track && track.LastFired is { } last)
            {
                next = period.Following(last);
                repeats = track.RepetitionLeft;
            }
            var scheduled = new Scheduled(reminder, period, next, repeats);
            _changes.TryApply(reminder.Key, since, () => _scheduled[reminder.Key] = scheduled);
        }
        foreach (var key in _scheduled.Keys)
        {
            if (key.StartsWith(actorType + "||", StringComparison.Ordinal) && !seen.Contains(key)
                && _scheduled.TryGetValue(key, out var s) && s.Reminder.ActorType == actorType)
            {
                _changes.TryApply(key, since, () => _scheduled.TryRemove(key, out _));
            }
        }
        // A reload takes seconds at most: older changes can no longer matter.
        _changes.Forget(TimeSpan.FromMinutes(1));
        _wake.Release();
    }

    private async Task NotifyPeersAsync(string actorType)
    {
        foreach (var peer in _placement.HostsOf(actorType).Where(h => !_mesh.IsSelf(h)))
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(peer.BaseAddress, $"{ActorRuntime.MeshPrefix}_reminders/{Uri.EscapeDataString(actorType)}/reload"));
                request.Headers.TryAddWithoutValidation(MeshBroker.TokenHeader, peer.Token);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                using var _ = await _httpClients.CreateClient("mesh").SendAsync(request, cts.Token);
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                // The peer reloads on its own within a few seconds.
            }
        }
    }

    // ---------------------------------------------------------------- storage

    private sealed record Metadata(string Id, int PartitionCount, string? ETag);

    private static string MetadataKey(string type) => $"actors||{type}||metadata";

    private static string PartitionKey(string type, Metadata m, int partition) =>
        partition == 0 ? $"actors||{type}" : $"actors||{type}||{m.Id}||reminders||{partition}";

    /// <summary>daprd's partition choice: FNV-1a (32 bit) over actor id then reminder name.</summary>
    private static int PartitionOf(Metadata m, string actorId, string name)
    {
        if (m.PartitionCount <= 0)
        {
            return 0;
        }
        var h = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(actorId + name))
        {
            h = (h ^ b) * 16777619u;
        }
        return (int)(h % (uint)m.PartitionCount) + 1;
    }

    private Task<T> Run<T>(Func<CancellationToken, Task<T>> action, CancellationToken ct) =>
        // A conflict is not retried here (the caller re-reads the partition), and replicas racing on a reminder
        // partition is this layout's own affair (daprd 1.18 keeps reminders in its Scheduler), so it must not open the
        // store's breaker for the app's own state calls either.
        _resiliency.ForComponentOutbound(Store.Name).ExecuteAsync(action, ct, isRetriable: IsNoConflict, countsAgainstBreaker: IsNoConflict);

    private static bool IsNoConflict(Exception ex) => ex is not ETagMismatchException;

    private async Task<Metadata> ReadMetadataAsync(string type, CancellationToken ct)
    {
        var store = Store.Store;
        var entry = await Run(c => store.GetAsync(MetadataKey(type), c), ct);
        if (entry is not null)
        {
            using var doc = JsonDocument.Parse(entry.Value);
            var id = doc.RootElement.TryGetProperty("id", out var i) ? i.GetString() ?? Guid.Empty.ToString() : Guid.Empty.ToString();
            var count = doc.RootElement.TryGetProperty("actorRemindersMetadata", out var rm) && rm.TryGetProperty("partitionCount", out var pc) && pc.TryGetInt32(out var n) ? n : 0;
            return new Metadata(id, count, entry.ETag);
        }
        var configured = _runtime.SettingsFor(type).RemindersStoragePartitions;
        var created = new Metadata(configured > 0 ? Guid.NewGuid().ToString() : Guid.Empty.ToString(), Math.Max(0, configured), null);
        var json = new JsonObject { ["id"] = created.Id, ["actorRemindersMetadata"] = new JsonObject { ["partitionCount"] = created.PartitionCount } }.ToJsonString();
        try
        {
            var etag = await Run(c => store.SetAsync(new SetOperation(MetadataKey(type), Encoding.UTF8.GetBytes(json), null, Concurrency.FirstWrite, null), c), ct);
            return created with { ETag = etag };
        }
        catch (ETagMismatchException)
        {
            return await ReadMetadataAsync(type, ct); // another sidecar wrote it first
        }
    }

    private async Task<(Metadata Metadata, List<StoredReminder> Reminders)> ReadAllAsync(string type, CancellationToken ct)
    {
        var metadata = await ReadMetadataAsync(type, ct);
        var all = new List<StoredReminder>();
        var partitions = metadata.PartitionCount <= 0 ? [0] : Enumerable.Range(1, metadata.PartitionCount);
        foreach (var p in partitions)
        {
            var (list, _) = await ReadPartitionAsync(type, metadata, p, ct);
            all.AddRange(list);
        }
        return (metadata, all);
    }

    private async Task<(List<StoredReminder> List, string? ETag)> ReadPartitionAsync(string type, Metadata metadata, int partition, CancellationToken ct)
    {
        var store = Store.Store;
        var entry = await Run(c => store.GetAsync(PartitionKey(type, metadata, partition), c), ct);
        if (entry is null || entry.Value.Length == 0)
        {
            return ([], null);
        }
        using var doc = JsonDocument.Parse(entry.Value);
        var list = doc.RootElement.ValueKind == JsonValueKind.Array
            ? doc.RootElement.EnumerateArray().Select(StoredReminder.FromJson).ToList()
            : [];
        return (list, entry.ETag);
    }

    /// <summary>
    /// Read-modify-write of the partition holding the reminder, with ETags so concurrent writers do not lose updates.
    /// The reminder's firing track goes in the same transaction: a reminder created or deleted starts with none.
    /// </summary>
    private async Task UpdateListAsync(string type, string actorId, string name, Action<List<StoredReminder>> change, CancellationToken ct)
    {
        var store = Store.Store;
        var track = new DeleteOperation(TrackKey(type, actorId, name), null, Concurrency.LastWrite);
        for (var attempt = 0; ; attempt++)
        {
            var metadata = await ReadMetadataAsync(type, ct);
            var partition = PartitionOf(metadata, actorId, name);
            var (list, etag) = await ReadPartitionAsync(type, metadata, partition, ct);
            change(list);
            var json = new JsonArray(list.Select(r => (JsonNode)r.ToJson()).ToArray()).ToJsonString();
            var write = new SetOperation(PartitionKey(type, metadata, partition), Encoding.UTF8.GetBytes(json), etag,
                etag is null ? Concurrency.FirstWrite : Concurrency.LastWrite, null);
            try
            {
                await Run(async c => { await store.TransactAsync([write, track], c); return true; }, ct);
                return;
            }
            catch (ETagMismatchException) when (attempt < 20)
            {
                await Task.Delay(Random.Shared.Next(5, 30), ct);
            }
        }
    }

    private sealed record Track(DateTimeOffset? LastFired, int RepetitionLeft);

    private static string TrackKey(StoredReminder r) => TrackKey(r.ActorType, r.ActorId, r.Name);

    private static string TrackKey(string type, string actorId, string name) => $"{type}||{actorId}||{name}";

    private async Task<Track?> ReadTrackAsync(StoredReminder r, CancellationToken ct)
    {
        var store = Store.Store;
        var entry = await Run(c => store.GetAsync(TrackKey(r), c), ct);
        if (entry is null)
        {
            return null;
        }
        using var doc = JsonDocument.Parse(entry.Value);
        var root = doc.RootElement;
        DateTimeOffset? last = root.TryGetProperty("lastFiredTime", out var l) && l.ValueKind == JsonValueKind.String && l.GetString() is { Length: > 0 } s
            ? DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal)
            : null;
        var left = root.TryGetProperty("repetitionLeft", out var rl) && rl.TryGetInt32(out var n) ? n : -1;
        return new Track(last, left);
    }

    private Task WriteTrackAsync(StoredReminder r, DateTimeOffset fired, int repetitionLeft, CancellationToken ct)
    {
        var store = Store.Store;
        var json = new JsonObject { ["lastFiredTime"] = ActorTimes.Rfc3339(fired), ["repetitionLeft"] = repetitionLeft }.ToJsonString();
        return Run(c => store.SetAsync(new SetOperation(TrackKey(r), Encoding.UTF8.GetBytes(json), null, Concurrency.LastWrite, null), c), ct);
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}
