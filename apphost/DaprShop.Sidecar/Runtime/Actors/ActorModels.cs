namespace DaprShop.Sidecar.Runtime.Actors;

/// <summary>An actor method call as either API hands it to the core: headers and body untouched.</summary>
public sealed record ActorCall(
    string ActorType,
    string ActorId,
    string Method,
    IReadOnlyList<KeyValuePair<string, string[]>> Headers,
    byte[] Body,
    string? ContentType);

/// <summary>The app's answer, passed back to the caller as it is (status, headers such as <c>X-DaprErrorResponseHeader</c>, body).</summary>
public sealed record ActorResponse(
    int StatusCode,
    IReadOnlyList<KeyValuePair<string, string[]>> Headers,
    byte[] Body,
    string? ContentType)
{
    public bool HasHeader(string name) => Headers.Any(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase));
}

public static class ActorHeaders
{
    public const string ReentrancyId = "Dapr-Reentrancy-Id";
    public const string ErrorResponse = "X-DaprErrorResponseHeader";
    public const string ReminderCancel = "X-DaprReminderCancel";
    public const string Hop = "daprshop-actor-hop";
}

/// <summary>The app answered an actor call with a status other than 200 and without Dapr's actor-error header.</summary>
public sealed class ActorAppException(int status, string body)
    : Exception($"error from actor service: ({status}) {body}")
{
    public int Status { get; } = status;
}
