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
/// and actors. Breakers keep their state per target, as daprd does.
/// </summary>
public sealed class ResiliencyEngine
{
    private readonly LoadedResources _resources;
    private readonly ConcurrentDictionary<string, Breaker> _breakers = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public ResiliencyEngine(LoadedResources resources, TimeProvider? time = null)
    {
        _resources = resources;
        _time = time ?? TimeProvider.System;
    }

    public ResiliencyPolicy ForApp(string appId) => Build($"app:{appId}", r => r.Apps.GetValueOrDefault(appId));

    public ResiliencyPolicy ForComponentOutbound(string name) => Build($"component-out:{name}", r => r.ComponentsOutbound.GetValueOrDefault(name));

    public ResiliencyPolicy ForComponentInbound(string name) => Build($"component-in:{name}", r => r.ComponentsInbound.GetValueOrDefault(name));

    public ResiliencyPolicy ForActor(string actorType) => Build($"actor:{actorType}", r => r.Actors.GetValueOrDefault(actorType));

    private readonly ConcurrentDictionary<string, ResiliencyPolicy> _policies = new(StringComparer.Ordinal);

    // Resolved once per target: the resources never change while the sidecar runs, and this is on every call's path.
    private ResiliencyPolicy Build(string target, Func<ResiliencyResource, TargetPolicies?> select) =>
        _policies.TryGetValue(target, out var policy) ? policy : _policies.GetOrAdd(target, t => Resolve(t, select));

    private ResiliencyPolicy Resolve(string target, Func<ResiliencyResource, TargetPolicies?> select)
    {
        // Later resources override earlier ones field by field, as several Resiliency files merge in daprd.
        TimeSpan? timeout = null;
        RetryPolicy? retry = null;
        CircuitBreakerPolicy? breaker = null;
        foreach (var r in _resources.Resiliencies)
        {
            var p = select(r);
            if (p is null)
            {
                continue;
            }
            timeout = p.Timeout ?? timeout;
            retry = p.Retry ?? retry;
            breaker = p.CircuitBreaker ?? breaker;
        }
        var state = breaker is null ? null : _breakers.GetOrAdd(target, _ => new Breaker(breaker, _time));
        return new ResiliencyPolicy(target, timeout, retry, state, _time);
    }

    internal sealed class Breaker(CircuitBreakerPolicy policy, TimeProvider time)
    {
        private readonly Lock _gate = new();
        private int _consecutiveFailures;
        private int _halfOpenInFlight;
        private DateTimeOffset _openedAt;
        private DateTimeOffset _windowStart = time.GetUtcNow();
        private State _state = State.Closed;

        private enum State { Closed, Open, HalfOpen }

        public bool TryEnter()
        {
            lock (_gate)
            {
                var now = time.GetUtcNow();
                if (_state == State.Open && now - _openedAt >= policy.Timeout)
                {
                    _state = State.HalfOpen;
                    _halfOpenInFlight = 0;
                }
                switch (_state)
                {
                    case State.Open:
                        return false;
                    case State.HalfOpen:
                        if (_halfOpenInFlight >= Math.Max(1, policy.MaxRequests))
                        {
                            return false;
                        }
                        _halfOpenInFlight++;
                        return true;
                    default:
                        if (policy.Interval > TimeSpan.Zero && now - _windowStart >= policy.Interval)
                        {
                            _windowStart = now;
                            _consecutiveFailures = 0;
                        }
                        return true;
                }
            }
        }

        public void Report(bool success)
        {
            lock (_gate)
            {
                if (success)
                {
                    _consecutiveFailures = 0;
                    if (_state == State.HalfOpen)
                    {
                        _state = State.Closed;
                        _windowStart = time.GetUtcNow();
                    }
                    return;
                }
                _consecutiveFailures++;
                if (_state == State.HalfOpen || _consecutiveFailures >= policy.TripConsecutiveFailures)
                {
                    _state = State.Open;
                    _openedAt = time.GetUtcNow();
                    _consecutiveFailures = 0;
                }
            }
        }
    }
}

/// <summary>The policies resolved for one target. With none configured it runs the call once, unchanged.</summary>
public sealed class ResiliencyPolicy
{
    private readonly string _target;
    private readonly TimeSpan? _timeout;
    private readonly RetryPolicy? _retry;
    private readonly ResiliencyEngine.Breaker? _breaker;
    private readonly TimeProvider _time;

    internal ResiliencyPolicy(string target, TimeSpan? timeout, RetryPolicy? retry, ResiliencyEngine.Breaker? breaker, TimeProvider time)
    {
        _target = target;
        _timeout = timeout;
        _retry = retry;
        _breaker = breaker;
        _time = time;
    }

    public bool IsEmpty => _timeout is null && _retry is null && _breaker is null;

    public RetryPolicy? Retry => _retry;

    /// <summary>
    /// Runs <paramref name="action"/> under the policies. <paramref name="isFailure"/> decides whether a result that
    /// returned normally still counts as a failure (e.g. an HTTP 503 from an app); <paramref name="isRetriable"/>
    /// lets the caller mark errors that retrying cannot fix (an ETag mismatch) as permanent.
    /// </summary>
    public async Task<T> ExecuteAsync<T>(
        Func<CancellationToken, Task<T>> action,
        CancellationToken cancellationToken,
        Func<T, bool>? isFailure = null,
        Func<Exception, bool>? isRetriable = null)
    {
        if (IsEmpty)
        {
            return await action(cancellationToken);
        }
        var attempt = 0;
        while (true)
        {
            attempt++;
            if (_breaker is not null && !_breaker.TryEnter())
            {
                throw new CircuitOpenException(_target);
            }
            T result;
            try
            {
                result = await RunAttemptAsync(action, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                var retriable = isRetriable?.Invoke(ex) ?? true;
                _breaker?.Report(!retriable); // a permanent (caller) error says nothing about the target's health
                if (!retriable || !await WaitBeforeRetryAsync(attempt, cancellationToken))
                {
                    throw;
                }
                continue;
            }
            var failed = isFailure?.Invoke(result) ?? false;
            _breaker?.Report(!failed);
            if (!failed || !await WaitBeforeRetryAsync(attempt, cancellationToken))
            {
                return result;
            }
            (result as IDisposable)?.Dispose();
        }
    }

    private async Task<T> RunAttemptAsync<T>(Func<CancellationToken, Task<T>> action, CancellationToken cancellationToken)
    {
        if (_timeout is not { } timeout)
        {
            return await action(cancellationToken);
        }
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            return await action(cts.Token);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new ResiliencyTimeoutException(timeout);
        }
    }

    private async Task<bool> WaitBeforeRetryAsync(int attempt, CancellationToken cancellationToken)
    {
        if (_retry is null || (_retry.MaxRetries >= 0 && attempt > _retry.MaxRetries))
        {
            return false;
        }
        await Task.Delay(_retry.DelayBefore(attempt), _time, cancellationToken);
        return true;
    }
}
