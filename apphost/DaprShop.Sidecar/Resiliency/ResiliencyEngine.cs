using System.Collections.Concurrent;
using DaprShop.Sidecar.Resources;

namespace DaprShop.Sidecar.Resiliency;

/// <summary>Raised when a Resiliency timeout ends an attempt.</summary>
public sealed class ResiliencyTimeoutException(TimeSpan timeout) : TimeoutException($"timeout after {timeout.TotalMilliseconds:0}ms (resiliency policy)");

/// <summary>Raised when a target's circuit breaker is open and the call is refused without being made.</summary>
public sealed class CircuitOpenException(string target) : Exception($"circuit breaker is open for {target}");

/// <summary>
/// Applies Dapr Resiliency policies — timeout per attempt, retries with constant or exponential backoff, and a
/// consecutive-failure circuit breaker — to calls to apps (<c>targets.apps</c>), components (<c>inbound</c>/<c>outbound</c>)
/// and actors. A target without a named entry gets daprd's default policies, looked up by name from the most to the
/// least specific (<c>DefaultAppRetryPolicy</c>, then <c>DefaultRetryPolicy</c>; for a state store's outbound calls
/// <c>DefaultStatestoreComponentOutbound…</c>, <c>DefaultComponentOutbound…</c>, <c>DefaultComponent…</c>, <c>Default…</c>).
/// Breakers keep their state per target, per app and method for service invocation, as daprd does.
/// </summary>
public sealed class ResiliencyEngine
{
    // daprd keeps at most circuitBreakerCacheSize breakers per app (one per method, default 100) and per actor type
    // (one per id when scoped by id, default 5000), least recently used out.
    private const int DefaultEndpointBreakers = 100;
    private const int DefaultActorBreakers = 5000;

    private readonly LoadedResources _resources;
    private readonly ConcurrentDictionary<string, Breaker> _breakers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, BreakerCache> _keyedBreakers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ResiliencyPolicy> _policies = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly Tracing.ResiliencyMetrics? _metrics;

    public ResiliencyEngine(LoadedResources resources, TimeProvider? time = null, Tracing.ResiliencyMetrics? metrics = null)
    {
        _resources = resources;
        _time = time ?? TimeProvider.System;
        _metrics = metrics;
    }

    /// <summary>
    /// The policies for a call to <paramref name="appId"/> at <paramref name="path"/> (the method, with any query):
    /// the app's timeout and retry, and a breaker per method, keyed only when the app has a breaker at all.
    /// </summary>
    public ResiliencyPolicy ForApp(string appId, string path)
    {
        var target = $"app:{appId}";
        var policy = Build(target, r => r.Apps.GetValueOrDefault(appId), ["App", ""]);
        if (policy.BreakerPolicy is null)
        {
            return policy;
        }
        var method = path.Split('?', 2)[0].TrimStart('/');
        return policy.WithBreaker(KeyedBreaker(target, method, policy, DefaultEndpointBreakers));
    }

    /// <summary>Whether a Resiliency resource names <paramref name="appId"/> (which turns daprd's built-in invocation retries off).</summary>
    public bool HasAppTarget(string appId) => _appTargets.GetOrAdd(appId, id => _resources.Resiliencies.Any(r => r.Apps.ContainsKey(id)));

    private readonly ConcurrentDictionary<string, bool> _appTargets = new(StringComparer.Ordinal);

    /// <summary>
    /// Whether a Resiliency resource names the actor type <paramref name="actorType"/> (which turns daprd's built-in
    /// actor retries off: default policies do not count, as in daprd).
    /// </summary>
    public bool HasActorTarget(string actorType) => _actorTargets.GetOrAdd(actorType, t => _resources.Resiliencies.Any(r => r.Actors.ContainsKey(t)));

    private readonly ConcurrentDictionary<string, bool> _actorTargets = new(StringComparer.Ordinal);

    /// <summary>
    /// daprd's built-in retries of a service call no app target covers, when no replica can be reached: 3, a second
    /// apart, unless a Resiliency resource redefines the retry policy <c>DaprBuiltInServiceRetries</c> — which, as in
    /// daprd, cannot retry fewer than 3 times (a lower <c>maxRetries</c>, or none, which means -1, counts as 3).
    /// </summary>
    public RetryPolicy BuiltInServiceRetries => _builtInServiceRetries ??= ResolveBuiltInServiceRetries();

    private RetryPolicy? _builtInServiceRetries;

    private RetryPolicy ResolveBuiltInServiceRetries()
    {
        const string name = "DaprBuiltInServiceRetries";
        var redefined = _resources.Resiliencies.Reverse().Select(r => r.Retries.GetValueOrDefault(name)).FirstOrDefault(p => p is not null);
        return redefined is null
            ? new RetryPolicy(name, BackoffKind.Constant, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), 3, new HashSet<int>(), new HashSet<int>())
            : redefined with { MaxRetries = Math.Max(3, redefined.MaxRetries) };
    }

    public ResiliencyPolicy ForComponentOutbound(string name) =>
        Build($"component-out:{name}", r => r.ComponentsOutbound.GetValueOrDefault(name), ComponentLevels(name, "Outbound"));

    public ResiliencyPolicy ForComponentInbound(string name) =>
        Build($"component-in:{name}", r => r.ComponentsInbound.GetValueOrDefault(name), ComponentLevels(name, "Inbound"));

    /// <summary>
    /// The policies for a call to the actor <paramref name="actorType"/>/<paramref name="actorId"/>: the type's, with
    /// one breaker for the type or, under <c>circuitBreakerScope: id</c> (or <c>both</c>), one per actor id. A type
    /// without an entry of its own gets the default policies, its breaker shared by the type, as in daprd.
    /// </summary>
    public ResiliencyPolicy ForActor(string actorType, string actorId) => WithActorBreaker(ForActorType(actorType), actorType, actorId);

    /// <summary>
    /// The part of an actor call's policies that daprd runs before the actor's lock (its pre-lock policy): retries and
    /// the breaker, around the whole call, in the caller's sidecar.
    /// </summary>
    public ResiliencyPolicy ForActorCall(string actorType, string actorId) => WithActorBreaker(ForActorType(actorType).PreLock, actorType, actorId);

    /// <summary>
    /// The part daprd runs once the actor's lock is taken (its post-lock policy): the timeout alone, where the actor
    /// is hosted, so that waiting for a busy actor does not count against it.
    /// </summary>
    public ResiliencyPolicy ForActorTurn(string actorType) => ForActorType(actorType).PostLock;

    private ResiliencyPolicy ForActorType(string actorType) =>
        Build($"actor:{actorType}", r => r.Actors.GetValueOrDefault(actorType), ["Actor", ""]);

    private ResiliencyPolicy WithActorBreaker(ResiliencyPolicy policy, string actorType, string actorId) =>
        policy.BreakerScope is ActorBreakerScope.Id or ActorBreakerScope.Both
            ? policy.WithBreaker(KeyedBreaker($"actor:{actorType}", actorId, policy, DefaultActorBreakers))
            : policy;

    private string[] ComponentLevels(string name, string direction) => ComponentKind(name) is { } kind
        ? [$"{kind}Component{direction}", $"Component{direction}", "Component", ""]
        : [$"Component{direction}", "Component", ""];

    /// <summary>The component's kind as daprd's default policy names and metric targets spell it (<c>Statestore</c>, <c>Pubsub</c>...).</summary>
    private string? ComponentKind(string name) =>
        (_resources.Components.FirstOrDefault(c => c.Name == name)?.Type ?? "").Split('.')[0] switch
        {
            "state" => "Statestore",
            "pubsub" => "Pubsub",
            "bindings" => "Binding",
            "secretstores" => "Secretstore",
            "configuration" => "Configuration",
            "lock" => "Lock",
            "crypto" => "Crypto",
            _ => null,
        };

    /// <summary>The target and flow direction daprd's resiliency metrics label a target with.</summary>
    private PolicyLabels? LabelsOf(string target)
    {
        if (_metrics is null)
        {
            return null;
        }
        var (kind, name) = (target[..target.IndexOf(':')], target[(target.IndexOf(':') + 1)..]);
        return kind switch
        {
            "app" => new PolicyLabels(_metrics, $"app_{name}", Tracing.ResiliencyMetrics.Outbound),
            "actor" => new PolicyLabels(_metrics, $"actor_{name}", Tracing.ResiliencyMetrics.Outbound),
            "component-in" => new PolicyLabels(_metrics, $"{ComponentKind(name) ?? "Component"}_{name}", Tracing.ResiliencyMetrics.Inbound),
            _ => new PolicyLabels(_metrics, $"{ComponentKind(name) ?? "Component"}_{name}", Tracing.ResiliencyMetrics.Outbound),
        };
    }

    // Resolved once per target: the resources never change while the sidecar runs, and this is on every call's path.
    private ResiliencyPolicy Build(string target, Func<ResiliencyResource, TargetPolicies?> select, string[] defaultLevels) =>
        _policies.TryGetValue(target, out var policy) ? policy : _policies.GetOrAdd(target, t => Resolve(t, select, defaultLevels));

    private ResiliencyPolicy Resolve(string target, Func<ResiliencyResource, TargetPolicies?> select, string[] defaultLevels)
    {
        // The last resource that names the target gives its whole entry: daprd keeps one entry per target, each
        // Resiliency file it decodes replacing it.
        var entry = _resources.Resiliencies.Select(select).LastOrDefault(p => p is not null);
        var timeout = entry?.Timeout;
        var retry = entry?.Retry;
        var breaker = entry?.CircuitBreaker;
        var scope = entry?.BreakerScope;
        var cacheSize = entry?.BreakerCacheSize;
        if (entry is null)
        {
            // daprd's defaults apply only to a target that has no entry of its own, each kind of policy on its own.
            timeout = Default(defaultLevels, "Timeout", r => r.Timeouts, t => (TimeSpan?)t);
            retry = Default(defaultLevels, "Retry", r => r.Retries, p => p);
            breaker = Default(defaultLevels, "CircuitBreaker", r => r.CircuitBreakers, p => p);
        }
        // Apps and id-scoped actors key their breakers further (KeyedBreaker); every other target has one.
        var keyed = target.StartsWith("app:", StringComparison.Ordinal) || scope is ActorBreakerScope.Id or ActorBreakerScope.Both;
        var labels = LabelsOf(target);
        var state = breaker is null || keyed ? null : _breakers.GetOrAdd(target, _ => new Breaker(breaker, _time, labels));
        return new ResiliencyPolicy(target, timeout, retry, breaker, state, _time) { BreakerScope = scope, BreakerCacheSize = cacheSize, Labels = labels };
    }

    private T? Default<TPolicy, T>(string[] levels, string kind, Func<ResiliencyResource, IReadOnlyDictionary<string, TPolicy>> policies, Func<TPolicy, T?> wrap)
    {
        foreach (var level in levels)
        {
            var name = $"Default{level}{kind}Policy";
            foreach (var r in _resources.Resiliencies.Reverse())
            {
                if (policies(r).TryGetValue(name, out var policy))
                {
                    return wrap(policy);
                }
            }
        }
        return default;
    }

    private Breaker KeyedBreaker(string target, string key, ResiliencyPolicy policy, int defaultCapacity) =>
        _keyedBreakers.GetOrAdd(target, _ => new BreakerCache(policy.BreakerCacheSize ?? defaultCapacity, policy.BreakerPolicy!, _time, policy.Labels)).Get(key);

    /// <summary>
    /// The breakers of one target kept per key (an app's methods, an actor type's ids), bounded like daprd's LRU
    /// cache so that keys with ids in them cannot grow it without end. Trimmed in batches, least recently used out:
    /// a trim per call would cost more than the bound saves.
    /// </summary>
    private sealed class BreakerCache(int capacity, CircuitBreakerPolicy policy, TimeProvider time, PolicyLabels? labels)
    {
        private readonly ConcurrentDictionary<string, Breaker> _breakers = new(StringComparer.Ordinal);

        public Breaker Get(string key)
        {
            var breaker = _breakers.GetOrAdd(key, _ => new Breaker(policy, time, labels));
            breaker.LastUsed = time.GetTimestamp();
            if (_breakers.Count > capacity + Math.Max(16, capacity / 4))
            {
                foreach (var (stale, _) in _breakers.OrderByDescending(b => b.Value.LastUsed).Skip(capacity).ToList())
                {
                    _breakers.TryRemove(stale, out _);
                }
            }
            return breaker;
        }
    }

    /// <summary>
    /// A circuit breaker as sony/gobreaker (daprd's) runs one: closed until the trip condition, open for
    /// <c>timeout</c>, then half-open for at most <c>maxRequests</c> calls, closing after that many successes in a
    /// row and opening again on any failure. Results are counted against the generation they started in, so a slow
    /// answer from before a change of state does not count in the new one.
    /// </summary>
    /// <param name="labels">Where a change of state is counted as an activation (daprd's metrics), if anywhere.</param>
    internal sealed class Breaker(CircuitBreakerPolicy policy, TimeProvider time, PolicyLabels? labels)
    {
        private readonly Lock _gate = new();
        private readonly TimeSpan _openFor = policy.Timeout > TimeSpan.Zero ? policy.Timeout : TimeSpan.FromSeconds(60);
        private readonly int _maxRequests = Math.Max(1, policy.MaxRequests);
        private int _consecutiveFailures;
        private int _consecutiveSuccesses;
        private int _requests;
        private long _generation;
        private DateTimeOffset _expiry = policy.Interval > TimeSpan.Zero ? time.GetUtcNow() + policy.Interval : DateTimeOffset.MaxValue;
        private State _state = State.Closed;

        private enum State { Closed, Open, HalfOpen }

        /// <summary>The state by daprd's (gobreaker's) name, as of now.</summary>
        public string StateName
        {
            get
            {
                lock (_gate)
                {
                    Refresh(time.GetUtcNow());
                    return NameOf(_state);
                }
            }
        }

        private static string NameOf(State state) => state switch { State.Closed => "closed", State.Open => "open", _ => "half-open" };

        public long LastUsed { get; set; }

        /// <summary>Admits a call and returns its generation, or null when the breaker refuses it.</summary>
        public long? TryEnter()
        {
            lock (_gate)
            {
                Refresh(time.GetUtcNow());
                if (_state == State.Open || (_state == State.HalfOpen && _requests >= _maxRequests))
                {
                    return null;
                }
                _requests++;
                return _generation;
            }
        }

        public void Report(long generation, bool success)
        {
            lock (_gate)
            {
                var now = time.GetUtcNow();
                Refresh(now);
                if (generation != _generation)
                {
                    return;
                }
                if (success)
                {
                    _consecutiveFailures = 0;
                    _consecutiveSuccesses++;
                    if (_state == State.HalfOpen && _consecutiveSuccesses >= _maxRequests)
                    {
                        MoveTo(State.Closed, now);
                    }
                    return;
                }
                _consecutiveSuccesses = 0;
                _consecutiveFailures++;
                if (_state == State.HalfOpen || (_state == State.Closed && _consecutiveFailures >= policy.TripConsecutiveFailures))
                {
                    MoveTo(State.Open, now);
                }
            }
        }

        private void Refresh(DateTimeOffset now)
        {
            if (_state == State.Closed && now >= _expiry)
            {
                NewGeneration(now); // the closed state's counts are cleared every interval
            }
            else if (_state == State.Open && now >= _expiry)
            {
                MoveTo(State.HalfOpen, now);
            }
        }

        private void MoveTo(State state, DateTimeOffset now)
        {
            _state = state;
            NewGeneration(now);
            labels?.Activated(Tracing.ResiliencyMetrics.CircuitBreaker, NameOf(state));
        }

        private void NewGeneration(DateTimeOffset now)
        {
            _generation++;
            _requests = 0;
            _consecutiveFailures = 0;
            _consecutiveSuccesses = 0;
            _expiry = _state switch
            {
                State.Closed => policy.Interval > TimeSpan.Zero ? now + policy.Interval : DateTimeOffset.MaxValue,
                State.Open => now + _openFor,
                _ => DateTimeOffset.MaxValue,
            };
        }
    }
}

/// <summary>The policies resolved for one target. With none configured it runs the call once, unchanged.</summary>
public sealed class ResiliencyPolicy
{
    private readonly string _target;
    private readonly TimeSpan? _timeout;
    private readonly RetryPolicy? _retry;
    private readonly CircuitBreakerPolicy? _breakerPolicy;
    private readonly ResiliencyEngine.Breaker? _breaker;
    private readonly TimeProvider _time;

    internal ResiliencyPolicy(string target, TimeSpan? timeout, RetryPolicy? retry, CircuitBreakerPolicy? breakerPolicy, ResiliencyEngine.Breaker? breaker, TimeProvider time)
    {
        _target = target;
        _timeout = timeout;
        _retry = retry;
        _breakerPolicy = breakerPolicy;
        _breaker = breaker;
        _time = time;
    }

    internal CircuitBreakerPolicy? BreakerPolicy => _breakerPolicy;

    /// <summary>An actor target's breaker scope, and how many keyed breakers its target keeps (null: daprd's default).</summary>
    internal ActorBreakerScope? BreakerScope { get; init; }

    internal int? BreakerCacheSize { get; init; }

    /// <summary>The target's labels in daprd's resiliency metrics; null when the sidecar records none.</summary>
    internal PolicyLabels? Labels { get; init; }

    internal ResiliencyPolicy WithBreaker(ResiliencyEngine.Breaker breaker) =>
        new(_target, _timeout, _retry, _breakerPolicy, breaker, _time) { BreakerScope = BreakerScope, BreakerCacheSize = BreakerCacheSize, Labels = Labels };

    /// <summary>The retry and breaker alone, made once per resolved policy (it is on every actor call's path).</summary>
    internal ResiliencyPolicy PreLock =>
        _preLock ??= new(_target, null, _retry, _breakerPolicy, _breaker, _time) { BreakerScope = BreakerScope, BreakerCacheSize = BreakerCacheSize, Labels = Labels };

    /// <summary>The timeout alone.</summary>
    internal ResiliencyPolicy PostLock => _postLock ??= new(_target, _timeout, null, null, null, _time) { Labels = Labels };

    private ResiliencyPolicy? _preLock;
    private ResiliencyPolicy? _postLock;

    public bool IsEmpty => _timeout is null && _retry is null && _breaker is null;

    public RetryPolicy? Retry => _retry;

    /// <summary>
    /// Runs <paramref name="action"/> under the policies, nested as daprd nests them: retry around the breaker
    /// around the timeout. The breaker counts every error and every failed result — retried or not, a timeout or the
    /// caller giving up — since each says something about the target. <paramref name="isFailure"/> decides whether a
    /// result that returned normally is a failure (e.g. an HTTP 503 from an app), <paramref name="isRetriableResult"/>
    /// whether such a failure is worth retrying (the policy's <c>matching</c>), and <paramref name="isRetriable"/>
    /// marks errors retrying cannot fix (an ETag mismatch) as permanent.
    /// </summary>
    /// <param name="countsAgainstBreaker">Errors of the sidecar's own making that daprd would never send to the
    /// component (a conflict on the sidecar's reminder records, which daprd 1.18 keeps in its Scheduler), left out of
    /// the breaker's count.</param>
    public async Task<T> ExecuteAsync<T>(
        Func<CancellationToken, Task<T>> action,
        CancellationToken cancellationToken,
        Func<T, bool>? isFailure = null,
        Func<Exception, bool>? isRetriable = null,
        Func<T, bool>? isRetriableResult = null,
        Func<Exception, bool>? countsAgainstBreaker = null)
    {
        if (IsEmpty)
        {
            return await action(cancellationToken);
        }
        if (Labels is { Enabled: true } labels)
        {
            // As daprd counts a policy each time it is looked up for a call: every kind the target has.
            if (_timeout > TimeSpan.Zero)
            {
                labels.Executed(Tracing.ResiliencyMetrics.Timeout);
            }
            if (_retry is not null)
            {
                labels.Executed(Tracing.ResiliencyMetrics.Retry);
            }
            if (_breaker is not null)
            {
                labels.Executed(Tracing.ResiliencyMetrics.CircuitBreaker, _breaker.StateName);
            }
        }
        var started = _time.GetTimestamp();
        var attempt = 0;
        while (true)
        {
            attempt++;
            long generation = 0;
            if (_breaker is not null)
            {
                generation = _breaker.TryEnter() ?? throw new CircuitOpenException(_target); // which also ends the retries
            }
            T result;
            try
            {
                result = await RunAttemptAsync(action, cancellationToken);
            }
            catch (Exception ex)
            {
                if (countsAgainstBreaker?.Invoke(ex) ?? true)
                {
                    _breaker?.Report(generation, success: false);
                }
                if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
                {
                    throw;
                }
                if (!(isRetriable?.Invoke(ex) ?? true) || !await WaitBeforeRetryAsync(attempt, started, cancellationToken))
                {
                    throw;
                }
                continue;
            }
            var failed = isFailure?.Invoke(result) ?? false;
            _breaker?.Report(generation, success: !failed);
            if (!failed || !(isRetriableResult?.Invoke(result) ?? true) || !await WaitBeforeRetryAsync(attempt, started, cancellationToken))
            {
                return result;
            }
            (result as IDisposable)?.Dispose();
        }
    }

    private async Task<T> RunAttemptAsync<T>(Func<CancellationToken, Task<T>> action, CancellationToken cancellationToken)
    {
        if (_timeout is not { } timeout || timeout <= TimeSpan.Zero)
        {
            return await action(cancellationToken); // a zero timeout means none, as in daprd
        }
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        var attempt = action(cts.Token);
        try
        {
            // The attempt ends at its deadline whether or not the operation honours the cancellation (a Redis or
            // SQLite call may not): daprd's runner, too, stops waiting for it then.
            return await attempt.WaitAsync(cts.Token);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            Abandon(attempt);
            Labels?.Activated(Tracing.ResiliencyMetrics.Timeout);
            throw new ResiliencyTimeoutException(timeout);
        }
    }

    /// <summary>An attempt given up on may still end: its result is disposed (an app's late answer holds a connection), its error observed.</summary>
    private static void Abandon<T>(Task<T> attempt) =>
        attempt.ContinueWith(
            static t =>
            {
                if (t.IsCompletedSuccessfully)
                {
                    (t.Result as IDisposable)?.Dispose();
                }
                else
                {
                    _ = t.Exception;
                }
            },
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private async Task<bool> WaitBeforeRetryAsync(int attempt, long started, CancellationToken cancellationToken)
    {
        if (_retry is null)
        {
            return false;
        }
        var delay = _retry.DelayBefore(attempt);
        if (!_retry.Allows(attempt, _time.GetElapsedTime(started), delay))
        {
            return false;
        }
        Labels?.Activated(Tracing.ResiliencyMetrics.Retry);
        await Task.Delay(delay, _time, cancellationToken);
        return true;
    }
}

/// <summary>How daprd's resiliency metrics label one target: <c>app_{id}</c>, <c>actor_{type}</c> or <c>{Kind}_{component}</c>, and its flow direction.</summary>
internal sealed record PolicyLabels(Tracing.ResiliencyMetrics Metrics, string Target, string Direction)
{
    public bool Enabled => Metrics.Enabled;

    public void Executed(string policy, string status = "") => Metrics.Executed(Target, Direction, policy, status);

    public void Activated(string policy, string status = "") => Metrics.Activated(Target, Direction, policy, status);
}
