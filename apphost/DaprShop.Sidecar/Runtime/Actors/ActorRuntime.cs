using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using DaprShop.Sidecar.Hosting;
using DaprShop.Sidecar.Mesh;
using DaprShop.Sidecar.Resiliency;

namespace DaprShop.Sidecar.Runtime.Actors;

/// <summary>One active actor on this sidecar: its turn lock, last use and timers.</summary>
public sealed class ActorActivation(string actorType, string actorId, DateTimeOffset now)
{
    public string ActorType { get; } = actorType;
    public string ActorId { get; } = actorId;
    public TurnLock Lock { get; } = new();
    public DateTimeOffset LastUsed { get; set; } = now;
    public volatile bool Deactivated;
    public ConcurrentDictionary<string, CancellationTokenSource> Timers { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// The actor runtime: routes each call to the sidecar that hosts the actor id (see <see cref="ActorPlacement"/>),
/// keeps the activation table of the actors hosted here, runs one turn at a time per actor (method calls, timer
/// and reminder callbacks alike, with reentrancy when the app enables it), deactivates idle actors and actors
/// whose id moved to another replica, and runs timers. The app is called over Dapr's HTTP actor protocol.
/// </summary>
public sealed class ActorRuntime(
    SidecarOptions options,
    ActorPlacement placement,
    MeshRegistry mesh,
    AppChannel app,
    ComponentHost components,
    ResiliencyEngine resiliency,
    IHttpClientFactory httpClients,
    SidecarState sidecar,
    Tracing.ActorMetrics metrics,
    TimeProvider time,
    ILogger<ActorRuntime> logger) : IAsyncDisposable
{
    public const string MeshPrefix = "/_daprshop/mesh/actors/";
    private static readonly HashSet<string> Dropped = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "TE", "Trailer", "Content-Length",
        "Content-Type", "dapr-api-token", MeshBroker.TokenHeader, ActorHeaders.Hop,
    };

    private readonly ConcurrentDictionary<string, ActorActivation> _active = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private Task? _scanner;

    public ActorConfig Config { get; private set; } = ActorConfig.Empty;

    /// <summary>Raised once the hosted types are known (the reminder service starts from it).</summary>
    public event Func<CancellationToken, Task>? HostStarted;

    public IReadOnlyCollection<ActorActivation> Active => (IReadOnlyCollection<ActorActivation>)_active.Values;

    private static string Key(string type, string id) => type + "||" + id;

    // ---------------------------------------------------------------- start-up

    /// <summary>Reads the app's actor configuration and announces the hosted types to the mesh.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (app.HasApp)
        {
            Config = await ReadAppConfigAsync(cancellationToken);
        }
        metrics.CountTimersWith(() => _active.Values.GroupBy(a => a.ActorType).Select(g => (g.Key, g.Sum(a => a.Timers.Count))));
        if (Config.Entities.Count > 0 && components.ActorStateStore is null)
        {
            logger.LogError("The app hosts actor types {Types}, but no state store has actorStateStore: \"true\"; the types are not hosted", string.Join(", ", Config.Entities));
            Config = ActorConfig.Empty;
        }
        if (Config.Entities.Count > 0)
        {
            mesh.UpdateActorTypes(Config.Entities);
            logger.LogInformation("Hosting actor types: {Types}", string.Join(", ", Config.Entities));
            if (HostStarted is { } started)
            {
                await started(cancellationToken);
            }
            _scanner = Task.Run(() => ScanLoopAsync(_stopping.Token), CancellationToken.None);
        }
        sidecar.ActorRuntimeStatus = "RUNNING";
        sidecar.ActorHostReady = true;
    }

    private async Task<ActorConfig> ReadAppConfigAsync(CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/dapr/config", UriKind.Relative)).As(AppCallKind.ActorConfig);
                using var response = await app.SendAsync(request, ct, HttpCompletionOption.ResponseContentRead);
                if (!response.IsSuccessStatusCode)
                {
                    return ActorConfig.Empty; // 404: the app hosts no actors
                }
                var body = await response.Content.ReadAsByteArrayAsync(ct);
                return body.Length == 0 ? ActorConfig.Empty : ActorConfig.Parse(body);
            }
            catch (JsonException ex)
            {
                logger.LogWarning("The app's /dapr/config is not valid JSON ({Error}); no actor types are hosted", ex.Message);
                return ActorConfig.Empty;
            }
            catch (HttpRequestException ex) when (attempt < 20)
            {
                logger.LogDebug("Reading /dapr/config failed ({Error}); retrying", ex.Message);
                await Task.Delay(250, ct);
            }
            catch (HttpRequestException ex)
            {
                logger.LogWarning("Could not read the app's /dapr/config: {Error}; no actor types are hosted", ex.Message);
                return ActorConfig.Empty;
            }
        }
    }

    public ActorTypeSettings SettingsFor(string actorType) =>
        Config.Types.TryGetValue(actorType, out var s) ? s
            : new ActorTypeSettings(actorType, ActorConfig.DefaultIdleTimeout, ActorConfig.DefaultDrainTimeout, true, false, ActorConfig.DefaultMaxStackDepth, 0);

    // ---------------------------------------------------------------- method calls

    /// <summary>
    /// Invokes an actor method wherever the actor lives, under the actor type's resiliency policy as daprd splits it:
    /// retries and the breaker here, around the whole call; the timeout where the actor runs, once its turn has begun
    /// (<see cref="InvokeLocalAsync"/>), so waiting for a busy actor does not count against it.
    /// </summary>
    public async Task<ActorResponse> InvokeAsync(ActorCall call, CancellationToken ct)
    {
        var policy = resiliency.ForActorCall(call.ActorType, call.ActorId);
        try
        {
            return await policy.ExecuteAsync(
                c => RouteAsync(call, hop: false, c),
                ct,
                isRetriable: ex => ex is not (ActorAppException { Status: 404 } or ActorStackDepthException or DaprApiException { HttpStatus: < 500 }));
        }
        catch (ActorAppException ex)
        {
            throw DaprErrors.ActorInvoke(ex.Message, ex);
        }
        catch (ActorStackDepthException)
        {
            throw DaprErrors.ActorStackDepth();
        }
        catch (ResiliencyTimeoutException ex)
        {
            throw DaprErrors.ActorInvoke(ex.Message, ex);
        }
        catch (CircuitOpenException ex)
        {
            throw DaprErrors.ActorInvoke(ex.Message, ex);
        }
    }

    /// <summary>A call forwarded by another sidecar of the mesh.</summary>
    public async Task<ActorResponse> ServeFromMeshAsync(ActorCall call, bool hopped, CancellationToken ct)
    {
        try
        {
            return await RouteAsync(call, hopped, ct);
        }
        catch (ActorAppException ex)
        {
            throw DaprErrors.ActorInvoke(ex.Message, ex);
        }
        catch (ActorStackDepthException)
        {
            throw DaprErrors.ActorStackDepth();
        }
        catch (ResiliencyTimeoutException ex)
        {
            throw DaprErrors.ActorInvoke(ex.Message, ex);
        }
    }

    /// <summary>
    /// daprd's protected retry policy <c>DaprBuiltInActorNotFoundRetries</c>: 5 more tries, a second apart. It is not
    /// redefinable (daprd ignores a Resiliency policy of that name).
    /// </summary>
    internal const int ActorNotFoundRetries = 5;

    internal static readonly TimeSpan ActorNotFoundRetryInterval = TimeSpan.FromSeconds(1);

    private async Task<ActorResponse> RouteAsync(ActorCall call, bool hop, CancellationToken ct)
    {
        // As in daprd, a call to a type no Resiliency target names is tried again while no host is known for the type
        // (placement has not caught up: the host is starting, or just moved) or its host cannot be reached; a named
        // target's own pre-lock policy decides instead (InvokeAsync), so a call is never retried twice over. A call
        // forwarded by another sidecar is not retried here either: its sender retries it.
        var retries = hop || resiliency.HasActorTarget(call.ActorType) ? 0 : ActorNotFoundRetries;
        for (var attempt = 0; ; attempt++)
        {
            var host = placement.Lookup(call.ActorType, call.ActorId);
            if (host is null)
            {
                if (attempt < retries)
                {
                    await WaitBeforeLookingAgainAsync(ct);
                    continue;
                }
                throw DaprErrors.ActorInvoke($"did not find address for actor {call.ActorType}/{call.ActorId}");
            }
            // A forwarded call whose sender had an older view of the mesh is served here rather than sent on again.
            if (mesh.IsSelf(host) || (hop && placement.HostsTypeLocally(call.ActorType)))
            {
                return await InvokeLocalAsync(call, ct);
            }
            try
            {
                return await ForwardAsync(host, call, ct);
            }
            catch (HttpRequestException ex) when (IsConnectionFailure(ex) && attempt < retries)
            {
                // The host just went away: its mesh file may still be cached. Look again.
                logger.LogWarning("Actor host {Instance} for {Type}/{Id} is unreachable: {Error}", host.InstanceId, call.ActorType, call.ActorId, ex.Message);
                await WaitBeforeLookingAgainAsync(ct);
            }
            catch (HttpRequestException ex)
            {
                if (IsConnectionFailure(ex))
                {
                    mesh.Invalidate(); // a retry by the type's own policy then looks at a fresh view of the mesh
                }
                throw DaprErrors.ActorInvoke(ex.Message, ex);
            }
        }
    }

    private async Task WaitBeforeLookingAgainAsync(CancellationToken ct)
    {
        await Task.Delay(ActorNotFoundRetryInterval, ct);
        mesh.Invalidate();
    }

    private async Task<ActorResponse> ForwardAsync(MeshInstance host, ActorCall call, CancellationToken ct)
    {
        var path = $"{MeshPrefix}{Uri.EscapeDataString(call.ActorType)}/{Uri.EscapeDataString(call.ActorId)}/method/{EscapePath(call.Method)}";
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(host.BaseAddress, path));
        CopyHeaders(call, request);
        request.Headers.TryAddWithoutValidation(MeshBroker.TokenHeader, host.Token);
        request.Headers.TryAddWithoutValidation(ActorHeaders.Hop, "1");
        using var response = await httpClients.CreateClient("mesh").SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        if (response.Headers.TryGetValues("dapr-error-code", out var codes) && codes.FirstOrDefault() is { } code)
        {
            // The host sidecar failed the call itself (not the app): re-raise its error unchanged.
            var text = await response.Content.ReadAsStringAsync(ct);
            var message = TryReadMessage(text) ?? text;
            throw new DaprApiException((int)response.StatusCode, global::Grpc.Core.StatusCode.Internal, code, message);
        }
        return await ToActorResponseAsync(response, ct);
    }

    /// <summary>Runs the call as one turn of the local activation.</summary>
    internal async Task<ActorResponse> InvokeLocalAsync(ActorCall call, CancellationToken ct)
    {
        var settings = SettingsFor(call.ActorType);
        string? reentrancyId = null;
        var headers = call.Headers;
        if (settings.ReentrancyEnabled)
        {
            reentrancyId = call.Headers.FirstOrDefault(h => string.Equals(h.Key, ActorHeaders.ReentrancyId, StringComparison.OrdinalIgnoreCase)).Value?.FirstOrDefault();
            if (string.IsNullOrEmpty(reentrancyId))
            {
                reentrancyId = Guid.NewGuid().ToString();
                headers = [.. headers, new(ActorHeaders.ReentrancyId, [reentrancyId])];
            }
        }
        var path = $"/actors/{Uri.EscapeDataString(call.ActorType)}/{Uri.EscapeDataString(call.ActorId)}/method/{EscapePath(call.Method)}";
        var timeout = resiliency.ForActorTurn(call.ActorType);
        var response = await RunTurnAsync(call.ActorType, call.ActorId, reentrancyId,
            c => timeout.ExecuteAsync(t => CallAppAsync(HttpMethod.Put, path, headers, call.Body, call.ContentType, t), c), ct);
        if (response.StatusCode != 200 && !response.HasHeader(ActorHeaders.ErrorResponse))
        {
            throw new ActorAppException(response.StatusCode, Encoding.UTF8.GetString(response.Body));
        }
        return response;
    }

    /// <summary>Takes the actor's turn (activating it), runs <paramref name="turn"/>, releases the turn.</summary>
    public async Task<T> RunTurnAsync<T>(string actorType, string actorId, string? reentrancyId, Func<CancellationToken, Task<T>> turn, CancellationToken ct)
    {
        if (!placement.HostsTypeLocally(actorType))
        {
            throw DaprErrors.ActorInvoke($"actor type {actorType} is not hosted by app {options.AppId}");
        }
        var depth = SettingsFor(actorType).MaxStackDepth;
        while (true)
        {
            var activation = _active.GetOrAdd(Key(actorType, actorId), _ => new ActorActivation(actorType, actorId, time.GetUtcNow()));
            await activation.Lock.EnterAsync(reentrancyId, depth, ct);
            try
            {
                if (activation.Deactivated)
                {
                    continue; // deactivated while we waited: activate again
                }
                try
                {
                    return await turn(ct);
                }
                finally
                {
                    activation.LastUsed = time.GetUtcNow();
                }
            }
            finally
            {
                activation.Lock.Exit();
            }
        }
    }

    /// <summary>Calls the app on the actor protocol and buffers its answer.</summary>
    public async Task<ActorResponse> CallAppAsync(HttpMethod verb, string path, IReadOnlyList<KeyValuePair<string, string[]>> headers, byte[]? body, string? contentType, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(verb, new Uri(path, UriKind.Relative)).As(AppCallKind.Actor);
        foreach (var (name, values) in headers)
        {
            if (!Dropped.Contains(name) && !InvocationApi.IsHopByHop(name) || string.Equals(name, ActorHeaders.ReentrancyId, StringComparison.OrdinalIgnoreCase))
            {
                request.Headers.TryAddWithoutValidation(name, values);
            }
        }
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.TryParse(contentType ?? "application/json", out var ctype) ? ctype : null;
        }
        try
        {
            using var response = await app.SendAsync(request, ct, HttpCompletionOption.ResponseContentRead);
            return await ToActorResponseAsync(response, ct);
        }
        catch (HttpRequestException ex)
        {
            throw DaprErrors.ActorInvoke($"error invoking app channel: {ex.Message}", ex);
        }
    }

    private static async Task<ActorResponse> ToActorResponseAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var body = await response.Content.ReadAsByteArrayAsync(ct);
        var headers = response.Headers
            .Where(h => !InvocationApi.IsHopByHop(h.Key) && !string.Equals(h.Key, MeshBroker.TokenHeader, StringComparison.OrdinalIgnoreCase))
            .Select(h => new KeyValuePair<string, string[]>(h.Key, h.Value.ToArray()))
            .ToList();
        return new ActorResponse((int)response.StatusCode, headers, body, response.Content.Headers.ContentType?.ToString());
    }

    private static void CopyHeaders(ActorCall call, HttpRequestMessage request)
    {
        foreach (var (name, values) in call.Headers)
        {
            if (!Dropped.Contains(name))
            {
                request.Headers.TryAddWithoutValidation(name, values);
            }
        }
        request.Content = new ByteArrayContent(call.Body);
        if (call.ContentType is not null && MediaTypeHeaderValue.TryParse(call.ContentType, out var ctype))
        {
            request.Content.Headers.ContentType = ctype;
        }
    }

    // ---------------------------------------------------------------- timers

    /// <summary>
    /// Registers (or replaces) a timer on an actor hosted here; it lives as long as the activation. As in daprd an
    /// actor that is not active yet may get one: the activation starts now and the first callback wakes the actor.
    /// </summary>
    public void CreateTimer(string actorType, string actorId, string name, ActorTimerRequest request)
    {
        if (!Config.Entities.Contains(actorType) || !placement.IsLocal(actorType, actorId))
        {
            throw DaprErrors.ActorTimerCreate($"can't create timer for actor {actorType}||{actorId}: the actor is not hosted by this sidecar");
        }
        var activation = _active.GetOrAdd(Key(actorType, actorId), _ => new ActorActivation(actorType, actorId, time.GetUtcNow()));
        if (activation.Deactivated)
        {
            throw DaprErrors.ActorTimerCreate($"can't create timer for actor {actorType}||{actorId}: the actor is being deactivated");
        }
        var now = time.GetUtcNow();
        ActorPeriod period;
        DateTimeOffset first;
        DateTimeOffset? expires = null;
        try
        {
            first = string.IsNullOrEmpty(request.DueTime) ? now : ActorTimes.ParseTime(request.DueTime, now);
            period = ActorTimes.ParsePeriod(request.Period);
            if (!string.IsNullOrEmpty(request.Ttl))
            {
                expires = ActorTimes.ParseTime(request.Ttl, first);
                if (expires < now || expires < first)
                {
                    throw new FormatException($"timer {actorType}||{actorId}||{name} has already expired: dueTime: {ActorTimes.Rfc3339(first)} TTL: {request.Ttl}");
                }
            }
        }
        catch (FormatException ex)
        {
            throw DaprErrors.ActorTimerCreate(ex.Message, ex);
        }
        var cts = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        if (activation.Timers.TryRemove(name, out var previous))
        {
            previous.Cancel();
        }
        activation.Timers[name] = cts;
        _ = Task.Run(() => RunTimerAsync(activation, name, request, first, period, expires, cts), CancellationToken.None);
    }

    public void DeleteTimer(string actorType, string actorId, string name)
    {
        if (_active.TryGetValue(Key(actorType, actorId), out var activation) && activation.Timers.TryRemove(name, out var cts))
        {
            cts.Cancel();
        }
    }

    private async Task RunTimerAsync(ActorActivation activation, string name, ActorTimerRequest request, DateTimeOffset next, ActorPeriod period, DateTimeOffset? expires, CancellationTokenSource cts)
    {
        var ct = cts.Token;
        var repeats = period.Repeats;
        var path = $"/actors/{Uri.EscapeDataString(activation.ActorType)}/{Uri.EscapeDataString(activation.ActorId)}/method/timer/{Uri.EscapeDataString(name)}";
        var body = TimerBody(request);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var wait = next - time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, ct);
                }
                if (expires is { } e && time.GetUtcNow() >= e)
                {
                    break;
                }
                ActorResponse response;
                try
                {
                    response = await RunTurnAsync(activation.ActorType, activation.ActorId, ReentrancyFor(activation.ActorType),
                        c => CallAppAsync(HttpMethod.Put, path, [], body, "application/json", c), ct);
                }
                catch (DaprApiException ex)
                {
                    logger.LogWarning("Timer {Name} of {Type}/{Id} failed: {Error}", name, activation.ActorType, activation.ActorId, ex.Message);
                    response = new ActorResponse(500, [], [], null);
                }
                metrics.TimerFired(activation.ActorType, response.StatusCode is >= 200 and < 300);
                if (activation.Deactivated || response.HasHeader(ActorHeaders.ReminderCancel))
                {
                    break;
                }
                if (repeats > 0)
                {
                    repeats--;
                }
                if (!period.IsPeriodic || repeats == 0)
                {
                    break;
                }
                // The next period starts once the callback has completed, as Dapr documents for timers.
                next = period.Following(time.GetUtcNow());
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            activation.Timers.TryRemove(new KeyValuePair<string, CancellationTokenSource>(name, cts));
            cts.Dispose();
        }
    }

    private static byte[] TimerBody(ActorTimerRequest r)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (r.Data is { } data)
            {
                w.WritePropertyName("data");
                data.WriteTo(w);
            }
            w.WriteString("callback", r.Callback ?? "");
            w.WriteString("dueTime", r.DueTime ?? "");
            w.WriteString("period", r.Period ?? "");
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>Timer and reminder callbacks start a call chain of their own.</summary>
    public string? ReentrancyFor(string actorType) => SettingsFor(actorType).ReentrancyEnabled ? Guid.NewGuid().ToString() : null;

    // ---------------------------------------------------------------- deactivation

    public bool IsActive(string actorType, string actorId) => _active.ContainsKey(Key(actorType, actorId));

    /// <summary>
    /// How often the scan runs: <c>actorScanInterval</c>, or a quarter of the shortest idle timeout when that is
    /// shorter (at least 100 ms), so an idle actor is deactivated close to its idle time, as daprd's idle queue does.
    /// </summary>
    internal TimeSpan ScanTick()
    {
        var shortestIdle = Config.Entities.Select(t => SettingsFor(t).IdleTimeout).DefaultIfEmpty(Config.ScanInterval).Min();
        var tick = TimeSpan.FromTicks(Math.Min(Config.ScanInterval.Ticks, shortestIdle.Ticks / 4));
        return tick < TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100) : tick;
    }

    private async Task ScanLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(ScanTick(), time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                await ScanOnceAsync(ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Deactivates actors idle longer than their type's <c>actorIdleTimeout</c>, and actors whose id moved to another replica.</summary>
    internal async Task ScanOnceAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        foreach (var activation in _active.Values)
        {
            var settings = SettingsFor(activation.ActorType);
            var moved = settings.DrainRebalancedActors && !placement.IsLocal(activation.ActorType, activation.ActorId);
            if (moved)
            {
                _ = DrainAsync(activation, settings.DrainOngoingCallTimeout, ct);
            }
            else if (now - activation.LastUsed >= settings.IdleTimeout && activation.Lock.TryEnter())
            {
                await DeactivateHeldAsync(activation, "idle", ct);
            }
        }
    }

    private async Task DrainAsync(ActorActivation activation, TimeSpan timeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            await activation.Lock.EnterAsync(null, int.MaxValue, cts.Token);
        }
        catch (OperationCanceledException)
        {
            if (ct.IsCancellationRequested)
            {
                return;
            }
            logger.LogWarning("Actor {Type}/{Id} moved to another replica but its ongoing call did not finish within {Timeout}", activation.ActorType, activation.ActorId, timeout);
            return;
        }
        await DeactivateHeldAsync(activation, "rebalanced", ct);
    }

    /// <summary>With the turn lock held: stop timers, tell the app (DELETE), drop the activation, release.</summary>
    private async Task DeactivateHeldAsync(ActorActivation activation, string reason, CancellationToken ct)
    {
        try
        {
            if (activation.Deactivated)
            {
                return;
            }
            activation.Deactivated = true;
            foreach (var timer in activation.Timers.Values)
            {
                timer.Cancel();
            }
            activation.Timers.Clear();
            var told = false;
            try
            {
                var path = $"/actors/{Uri.EscapeDataString(activation.ActorType)}/{Uri.EscapeDataString(activation.ActorId)}";
                var response = await CallAppAsync(HttpMethod.Delete, path, [], null, null, ct);
                told = response.StatusCode == 200;
                if (!told)
                {
                    logger.LogWarning("The app answered {Status} when deactivating {Type}/{Id}", response.StatusCode, activation.ActorType, activation.ActorId);
                }
            }
            catch (Exception ex) when (ex is DaprApiException or OperationCanceledException)
            {
                logger.LogWarning("Deactivating {Type}/{Id} failed: {Error}", activation.ActorType, activation.ActorId, ex.Message);
            }
            metrics.Deactivated(activation.ActorType, told);
            logger.LogDebug("Deactivated actor {Type}/{Id} ({Reason})", activation.ActorType, activation.ActorId, reason);
        }
        finally
        {
            _active.TryRemove(new KeyValuePair<string, ActorActivation>(Key(activation.ActorType, activation.ActorId), activation));
            activation.Lock.Exit();
        }
    }

    /// <summary>On shutdown: deactivate every actor whose turn is free within a short grace period.</summary>
    public async Task DeactivateAllAsync(TimeSpan grace)
    {
        _stopping.Cancel();
        using var cts = new CancellationTokenSource(grace);
        await Task.WhenAll(_active.Values.Select(async a =>
        {
            try
            {
                await a.Lock.EnterAsync(null, int.MaxValue, cts.Token);
                await DeactivateHeldAsync(a, "shutdown", cts.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }));
    }

    // ---------------------------------------------------------------- helpers

    private static string EscapePath(string method) => string.Join('/', method.Split('/').Select(Uri.EscapeDataString));

    private static bool IsConnectionFailure(HttpRequestException ex) =>
        ex.HttpRequestError is HttpRequestError.ConnectionError || ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused };

    private static string? TryReadMessage(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.TryGetProperty("message", out var m) ? m.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        if (_scanner is not null)
        {
            await _scanner.ConfigureAwait(false);
        }
    }
}

/// <summary>A timer registration: <c>{dueTime, period, ttl, callback, data}</c>.</summary>
public sealed record ActorTimerRequest(string? DueTime, string? Period, string? Ttl, string? Callback, JsonElement? Data);
