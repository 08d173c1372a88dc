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
    public TimeSpan DelayBefore(int attempt)
    {
        if (Policy == BackoffKind.Constant)
        {
            return Duration;
        }
        // Dapr's exponential backoff starts at 500ms unless "duration" says otherwise, doubling up to maxInterval.
        var initial = Duration > TimeSpan.Zero ? Duration : TimeSpan.FromMilliseconds(500);
        var delay = initial * Math.Pow(1.5, Math.Min(attempt - 1, 30));
        var cap = MaxInterval > TimeSpan.Zero ? MaxInterval : TimeSpan.FromSeconds(60);
        return delay < cap ? delay : cap;
    }
}

/// <summary>A named circuit breaker; <see cref="TripConsecutiveFailures"/> comes from a trip expression such as <c>consecutiveFailures &gt; 5</c>.</summary>
public sealed record CircuitBreakerPolicy(string Name, int MaxRequests, TimeSpan Interval, TimeSpan Timeout, int TripConsecutiveFailures);

/// <summary>The policies that apply to one target (an app, a component direction, an actor type).</summary>
public sealed record TargetPolicies(TimeSpan? Timeout, RetryPolicy? Retry, CircuitBreakerPolicy? CircuitBreaker)
{
    public static readonly TargetPolicies None = new(null, null, null);
}

public sealed record ResiliencyResource(
    string Name,
    string File,
    IReadOnlyDictionary<string, TargetPolicies> Apps,
    IReadOnlyDictionary<string, TargetPolicies> ComponentsOutbound,
    IReadOnlyDictionary<string, TargetPolicies> ComponentsInbound,
    IReadOnlyDictionary<string, TargetPolicies> Actors,
    IReadOnlyList<string> Scopes);
