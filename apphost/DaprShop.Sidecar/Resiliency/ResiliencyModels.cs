namespace DaprShop.Sidecar.Resiliency;

public enum BackoffKind { Constant, Exponential }

/// <summary>A named retry policy. <see cref="MaxRetries"/> of -1 retries for ever, as in Dapr.</summary>
public sealed record RetryPolicy(
    string Name,
    BackoffKind Policy,
    TimeSpan Duration,
    TimeSpan MaxInterval,
    int MaxRetries,
    IReadOnlySet<int> RetryOnHttpStatus,
    IReadOnlySet<int> RetryOnGrpcStatus)
{
    /// <summary>daprd's exponential backoff starts here whatever <c>duration</c> says (it applies to constant policies only).</summary>
    public static readonly TimeSpan ExponentialInitialInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>daprd's exponential backoff gives up this long after the first attempt, even with <c>maxRetries: -1</c>.</summary>
    public static readonly TimeSpan ExponentialMaxElapsedTime = TimeSpan.FromMinutes(15);

    /// <summary>The wait before retry number <paramref name="attempt"/> (1 = after the first attempt).</summary>
    public TimeSpan DelayBefore(int attempt)
    {
        if (Policy == BackoffKind.Constant)
        {
            return Duration;
        }
        // 500 ms, then ×1.5 up to maxInterval; the first interval is not capped (cenkalti/backoff under dapr/kit).
        var cap = MaxInterval > TimeSpan.Zero ? MaxInterval : TimeSpan.FromSeconds(60);
        var delay = ExponentialInitialInterval;
        for (var i = 1; i < attempt; i++)
        {
            delay = delay >= cap / 1.5 ? cap : delay * 1.5;
        }
        return delay;
    }

    /// <summary>Whether another retry is allowed after <paramref name="attempt"/> attempts that took <paramref name="elapsed"/>, before waiting <paramref name="delay"/>.</summary>
    public bool Allows(int attempt, TimeSpan elapsed, TimeSpan delay) =>
        (MaxRetries < 0 || attempt <= MaxRetries)
        && (Policy == BackoffKind.Constant || elapsed + delay <= ExponentialMaxElapsedTime);

    /// <summary>Whether a failed call's status is one to retry: any, unless <c>matching</c> lists some.</summary>
    public bool RetriesHttpStatus(int status) => RetryOnHttpStatus.Count == 0 || RetryOnHttpStatus.Contains(status);

    /// <summary>The same for a gRPC app's code, against <c>matching.gRPCStatusCodes</c>.</summary>
    public bool RetriesGrpcStatus(int code) => RetryOnGrpcStatus.Count == 0 || RetryOnGrpcStatus.Contains(code);
}

/// <summary>A named circuit breaker; <see cref="TripConsecutiveFailures"/> comes from a trip expression such as <c>consecutiveFailures &gt; 5</c>.</summary>
public sealed record CircuitBreakerPolicy(string Name, int MaxRequests, TimeSpan Interval, TimeSpan Timeout, int TripConsecutiveFailures);

/// <summary>
/// Which calls to an actor type share a circuit breaker (<c>circuitBreakerScope</c>): all of the type's, or each
/// actor id's own. daprd keys <c>both</c> as it keys <c>id</c> (type and id).
/// </summary>
public enum ActorBreakerScope { Type, Id, Both }

/// <summary>The policies that apply to one target (an app, a component direction, an actor type).</summary>
public sealed record TargetPolicies(TimeSpan? Timeout, RetryPolicy? Retry, CircuitBreakerPolicy? CircuitBreaker)
{
    public static readonly TargetPolicies None = new(null, null, null);

    /// <summary>An actor target's <c>circuitBreakerScope</c> (required with a breaker, as daprd requires it).</summary>
    public ActorBreakerScope? BreakerScope { get; init; }

    /// <summary><c>circuitBreakerCacheSize</c>: how many per-method (app) or per-id (actor) breakers are kept.</summary>
    public int? BreakerCacheSize { get; init; }
}

/// <summary>
/// One Resiliency resource: its targets, and its named policies — which also serve as daprd's default policies when
/// named by its templates (<c>DefaultRetryPolicy</c>, <c>DefaultAppTimeoutPolicy</c>,
/// <c>DefaultStatestoreComponentOutboundCircuitBreakerPolicy</c>, ...).
/// </summary>
public sealed record ResiliencyResource(
    string Name,
    string File,
    IReadOnlyDictionary<string, TargetPolicies> Apps,
    IReadOnlyDictionary<string, TargetPolicies> ComponentsOutbound,
    IReadOnlyDictionary<string, TargetPolicies> ComponentsInbound,
    IReadOnlyDictionary<string, TargetPolicies> Actors,
    IReadOnlyList<string> Scopes)
{
    /// <summary>The resource's <c>metadata.namespace</c> (empty when it names none, as in self-hosted files).</summary>
    public string Namespace { get; init; } = "";

    public IReadOnlyDictionary<string, TimeSpan> Timeouts { get; init; } = new Dictionary<string, TimeSpan>();
    public IReadOnlyDictionary<string, RetryPolicy> Retries { get; init; } = new Dictionary<string, RetryPolicy>();
    public IReadOnlyDictionary<string, CircuitBreakerPolicy> CircuitBreakers { get; init; } = new Dictionary<string, CircuitBreakerPolicy>();
}
