using Grpc.Core;

namespace DaprShop.Sidecar.Runtime;

/// <summary>
/// An API error as daprd reports it: an <c>errorCode</c> string, an HTTP status for the HTTP API and a gRPC
/// status code for the gRPC API. The core throws it; each API only translates, so both agree.
/// </summary>
public sealed class DaprApiException(int httpStatus, StatusCode grpcStatus, string errorCode, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public int HttpStatus { get; } = httpStatus;
    public StatusCode GrpcStatus { get; } = grpcStatus;
    public string ErrorCode { get; } = errorCode;

    /// <summary>The rich details daprd attaches to this error, or null where daprd 1.18 sends none (see <see cref="ErrorDetails"/>).</summary>
    public ErrorDetails? Details { get; init; }
}

/// <summary>
/// daprd's rich error model (dapr/kit errors), which 1.18 attaches to its state and pub/sub errors: a
/// <c>google.rpc.ErrorInfo</c> (domain <c>dapr.io</c>) always, after a <c>BadRequest</c> field violation, a
/// <c>Help</c> link and a <c>ResourceInfo</c> where the error has them. gRPC sends them as
/// <c>grpc-status-details-bin</c>, HTTP as the body's <c>details</c> array (<see cref="RichErrors"/>).
/// </summary>
public sealed record ErrorDetails(string Reason, IReadOnlyDictionary<string, string>? Metadata)
{
    public ResourceDetail? Resource { get; init; }
    public FieldViolation? Violation { get; init; }
    public HelpLink? Help { get; init; }
}

public sealed record ResourceDetail(string Type, string Name, string Owner = "", string Description = "");

public sealed record FieldViolation(string Field, string Description);

public sealed record HelpLink(string Url, string Description);

/// <summary>The errors the sidecar reports, with daprd's codes and statuses (see docs/sidecar.md for the table).</summary>
public static class DaprErrors
{
    public static DaprApiException MalformedRequest(string message) =>
        new(400, StatusCode.InvalidArgument, "ERR_MALFORMED_REQUEST", message);

    public static DaprApiException StateStoresNotConfigured(string name, string appId) =>
        new(500, StatusCode.FailedPrecondition, "ERR_STATE_STORE_NOT_CONFIGURED", $"state store {name} is not configured")
        { Details = new("DAPR_STATE_NOT_CONFIGURED", AppIdMetadata(appId)) };

    public static DaprApiException StateStoreNotFound(string name, string appId) =>
        new(400, StatusCode.InvalidArgument, "ERR_STATE_STORE_NOT_FOUND", $"state store {name} is not found")
        { Details = new("DAPR_STATE_NOT_FOUND", AppIdMetadata(appId)) };

    public static DaprApiException StateInvalidKey(string store, string key) =>
        new(400, StatusCode.InvalidArgument, "ERR_MALFORMED_REQUEST", $"input key/keyPrefix '{key}' can't contain '||'")
        {
            Details = new("DAPR_STATE_ILLEGAL_KEY", null)
            {
                Violation = new(key, $"input key/keyPrefix '{key}' can't contain '||'"),
                Resource = new("state", store),
            },
        };

    public static DaprApiException StateGet(string key, string store, Exception ex) =>
        new(500, StatusCode.Internal, "ERR_STATE_GET", $"fail to get {key} from state store {store}: {ex.Message}", ex);

    public static DaprApiException StateSave(string store, Exception ex) =>
        new(500, StatusCode.Internal, "ERR_STATE_SAVE", $"failed saving state in state store {store}: {ex.Message}", ex);

    public static DaprApiException StateDelete(string key, Exception ex, string code = "ERR_STATE_DELETE") =>
        new(500, StatusCode.Internal, code, $"failed deleting state with key {key}: {ex.Message}", ex);

    public static DaprApiException StateTransaction(Exception ex) =>
        new(500, StatusCode.Internal, "ERR_STATE_TRANSACTION", $"error while executing state transaction: {ex.Message}", ex);

    public static DaprApiException ETagMismatch(string errorCode, string message) =>
        new(409, StatusCode.Aborted, errorCode, message);

    public static DaprApiException ETagInvalid(string errorCode, string message) =>
        new(400, StatusCode.InvalidArgument, errorCode, message);

    public static DaprApiException StateQueryNotSupported(string store) =>
        new(500, StatusCode.Internal, "ERR_STATE_STORE_NOT_SUPPORTED", "state store does not support querying")
        { Details = new("DAPR_STATE_QUERYING_NOT_SUPPORTED", null) { Resource = new("state", store) } };

    public static DaprApiException StateQuery(string store, string message) =>
        new(500, StatusCode.Internal, "ERR_STATE_QUERY", $"state store {store} query failed: {message}")
        { Details = new("DAPR_STATE_QUERY_FAILED", null) { Resource = new("state", store) } };

    public static DaprApiException TransactionsNotSupported(string store) =>
        new(500, StatusCode.Unimplemented, "ERR_STATE_STORE_NOT_SUPPORTED", $"state store {store} doesn't support transactions")
        {
            Details = new("DAPR_STATE_TRANSACTIONS_NOT_SUPPORTED", null)
            {
                Help = new("https://docs.dapr.io/reference/components-reference/supported-state-stores/", "Check the list of state stores and the features they support"),
                Resource = new("state", store),
            },
        };

    // Pub/sub errors carry the request's metadata (validation), the app id and the cause (envelope), or the topic
    // and the cause (publishing), as daprd's do; each but "not found" and "not configured" names the component.
    public static DaprApiException PubSubsNotConfigured(string name, IReadOnlyDictionary<string, string> metadata) =>
        new(400, StatusCode.FailedPrecondition, "ERR_PUBSUB_NOT_CONFIGURED", $"pubsub {name} is not configured")
        { Details = new("DAPR_PUBSUB_NOT_CONFIGURED", metadata) };

    public static DaprApiException PubSubNotFound(string name, IReadOnlyDictionary<string, string> metadata) =>
        new(404, StatusCode.InvalidArgument, "ERR_PUBSUB_NOT_FOUND", $"pubsub {name} is not found")
        { Details = new("DAPR_PUBSUB_NOT_FOUND", metadata) };

    public static DaprApiException PubSubForbidden(string pubsub, string topic, string appId) =>
        PubSub(403, StatusCode.PermissionDenied, "ERR_PUBSUB_FORBIDDEN", "DAPR_PUBSUB_FORBIDDEN", pubsub,
            $"topic {topic} is not allowed for app id {appId}", TopicMetadata(topic, $"topic {topic} is not allowed for app id {appId}"));

    public static DaprApiException PubSubNameEmpty(IReadOnlyDictionary<string, string> metadata) =>
        PubSub(404, StatusCode.InvalidArgument, "ERR_PUBSUB_EMPTY", "DAPR_PUBSUB_NAME_EMPTY", "", "pubsub name is empty", metadata);

    public static DaprApiException TopicEmpty(string pubsub, IReadOnlyDictionary<string, string> metadata) =>
        PubSub(404, StatusCode.InvalidArgument, "ERR_TOPIC_NAME_EMPTY", "DAPR_PUBSUB_TOPIC_NAME_EMPTY", pubsub, $"topic is empty in pubsub {pubsub}", metadata);

    public static DaprApiException PublishFailed(string topic, string pubsub, Exception ex) =>
        PubSub(500, StatusCode.Internal, "ERR_PUBSUB_PUBLISH_MESSAGE", "DAPR_PUBSUB_PUBLISH_MESSAGE", pubsub,
            $"error when publishing to topic {topic} in pubsub {pubsub}: {ex.Message}", TopicMetadata(topic, ex.Message), ex);

    /// <summary>A payload that cannot become a CloudEvent (a <c>cloudevents+json</c> body that is not a JSON object).</summary>
    public static DaprApiException CloudEventCreation(string pubsub, string appId, string problem) =>
        PubSub(500, StatusCode.InvalidArgument, "ERR_PUBSUB_CLOUD_EVENTS_SER", "DAPR_PUBSUB_CLOUD_EVENT_CREATION", pubsub,
            "cannot create cloudevent", new Dictionary<string, string> { ["appID"] = appId, ["error"] = problem });

    public static DaprApiException BindingNotFound(string name) =>
        new(500, StatusCode.Internal, "ERR_INVOKE_OUTPUT_BINDING", $"error invoking output binding {name}: couldn't find output binding {name}");

    public static DaprApiException BindingFailed(string name, string message, Exception? ex = null) =>
        new(500, StatusCode.Internal, "ERR_INVOKE_OUTPUT_BINDING", $"error invoking output binding {name}: {message}", ex);

    public static DaprApiException SecretStoresNotConfigured() =>
        new(500, StatusCode.FailedPrecondition, "ERR_SECRET_STORES_NOT_CONFIGURED", "secret store is not configured");

    public static DaprApiException LockStoresNotConfigured() =>
        new(500, StatusCode.FailedPrecondition, "ERR_LOCK_STORE_NOT_CONFIGURED", "lock store is not configured");

    public static DaprApiException LockStoreNotFound(string name) =>
        new(400, StatusCode.InvalidArgument, "ERR_LOCK_STORE_NOT_FOUND", $"lock store {name} not found");

    public static DaprApiException TryLock(string store, string resourceId, string message) =>
        new(500, StatusCode.Internal, "ERR_TRY_LOCK", $"failed to try acquiring lock {resourceId} in lock store {store}: {message}");

    public static DaprApiException Unlock(string store, string resourceId, string message) =>
        new(500, StatusCode.Internal, "ERR_UNLOCK", $"failed to release lock {resourceId} in lock store {store}: {message}");

    public static DaprApiException ConfigurationStoresNotConfigured() =>
        new(500, StatusCode.FailedPrecondition, "ERR_CONFIGURATION_STORE_NOT_CONFIGURED", "configuration stores not configured");

    public static DaprApiException ConfigurationStoreNotFound(string name) =>
        new(400, StatusCode.InvalidArgument, "ERR_CONFIGURATION_STORE_NOT_FOUND", $"configuration store {name} not found");

    public static DaprApiException ConfigurationGet(string store, IReadOnlyList<string> keys, string message) =>
        new(500, StatusCode.Internal, "ERR_CONFIGURATION_GET", $"failed to get {string.Join(",", keys)} from Configuration store {store}: {message}");

    public static DaprApiException ConfigurationSubscribe(string store, IReadOnlyList<string> keys, string message) =>
        new(500, StatusCode.Internal, "ERR_CONFIGURATION_SUBSCRIBE", $"failed to subscribe {string.Join(",", keys)} from Configuration store {store}: {message}");

    public static DaprApiException ConfigurationUnsubscribe(string id, string message) =>
        new(500, StatusCode.Internal, "ERR_CONFIGURATION_UNSUBSCRIBE", $"failed to unsubscribe subscription {id}: {message}");

    public static DaprApiException SecretStoreNotFound(string name) =>
        new(401, StatusCode.InvalidArgument, "ERR_SECRET_STORE_NOT_FOUND", $"failed finding secret store with key {name}");

    public static DaprApiException SecretGet(string key, string store, string message) =>
        new(500, StatusCode.Internal, "ERR_SECRET_GET", $"failed getting secret with key {key} from secret store {store}: {message}");

    public static DaprApiException BulkSecretGet(string store, string message) =>
        new(500, StatusCode.Internal, "ERR_SECRET_GET", $"failed getting secrets from secret store {store}: {message}");

    public static DaprApiException SecretPermissionDenied(string key, string store) =>
        new(403, StatusCode.PermissionDenied, "ERR_PERMISSION_DENIED", $"access denied by policy to get \"{key}\" from \"{store}\"");

    public static DaprApiException PermissionDenied(string message) =>
        new(403, StatusCode.PermissionDenied, "ERR_PERMISSION_DENIED", message);

    public static DaprApiException DirectInvoke(string appId, string message, Exception? ex = null) =>
        new(500, StatusCode.Internal, "ERR_DIRECT_INVOKE", $"failed to invoke, id: {appId}, err: {message}", ex);

    public static DaprApiException AppUnavailable(string appId, string message) =>
        new(500, StatusCode.Unavailable, "ERR_DIRECT_INVOKE", $"failed to invoke, id: {appId}, err: {message}");

    public static DaprApiException NotReady(string what) =>
        new(500, StatusCode.Internal, "ERR_HEALTH_NOT_READY", $"dapr is not ready: [{what}]");

    public static DaprApiException HealthAppIdNotMatch() =>
        new(500, StatusCode.Internal, "ERR_HEALTH_APPID_NOT_MATCH", "dapr app-id does not match");

    public static DaprApiException OutboundNotReady() =>
        new(500, StatusCode.Internal, "ERR_OUTBOUND_HEALTH_NOT_READY", "dapr outbound is not ready");

    /// <summary>A bulk publish entry that cannot be sent as given (no or a repeated entry id, an event that does not fit its content type).</summary>
    public static DaprApiException BulkPublishEntries(string topic, string pubsub, string appId, string problem) =>
        PubSub(400, StatusCode.InvalidArgument, "ERR_PUBSUB_EVENTS_SER", "DAPR_PUBSUB_MARSHAL_EVENTS", pubsub,
            $"error marshaling events to bytes for topic {topic} pubsub {pubsub}. error: {problem}", new Dictionary<string, string> { ["appID"] = appId, ["error"] = problem });

    /// <summary>An HTTP bulk publish body that is not a JSON array of entries.</summary>
    public static DaprApiException BulkPublishBody(string topic, string pubsub, string appId, string problem) =>
        PubSub(400, StatusCode.InvalidArgument, "ERR_PUBSUB_EVENTS_SER", "DAPR_PUBSUB_UNMARSHAL_EVENTS", pubsub,
            $"error when unmarshaling the request for topic {topic} pubsub {pubsub}: {problem}", new Dictionary<string, string> { ["appID"] = appId });

    public static DaprApiException PubSubMetadata(string pubsub, string message, IReadOnlyDictionary<string, string> metadata) =>
        PubSub(400, StatusCode.InvalidArgument, "ERR_PUBSUB_REQUEST_METADATA", "DAPR_PUBSUB_METADATA_DESERIALIZATION", pubsub, message, metadata);

    private static DaprApiException PubSub(int http, StatusCode grpc, string code, string reason, string pubsub, string message, IReadOnlyDictionary<string, string> metadata, Exception? inner = null) =>
        new(http, grpc, code, message, inner) { Details = new(reason, metadata) { Resource = new("pubsub", pubsub, "", message) } };

    // The jobs API's errors (daprd's pkg/api/errors/scheduler.go): the ErrorInfo reason is also the HTTP errorCode.
    public static DaprApiException JobEmpty(string what, string reason, string appId, string ns) =>
        SchedulerError(400, StatusCode.InvalidArgument, reason, $"{what} is empty", appId, ns);

    public static DaprApiException JobNameInBody(string appId, string ns) =>
        SchedulerError(400, StatusCode.InvalidArgument, "DAPR_SCHEDULER_JOB_NAME", "Set the job name in the url only", appId, ns);

    /// <summary>A failure of the Scheduler behind a jobs call: daprd answers 500/Internal with the Scheduler's own error in the message.</summary>
    public static DaprApiException JobCall(string reason, string action, string schedulerCode, string schedulerMessage, string appId, string ns) =>
        SchedulerError(500, StatusCode.Internal, reason, $"failed to {action} due to: rpc error: code = {schedulerCode} desc = {schedulerMessage}", appId, ns);

    private static DaprApiException SchedulerError(int http, StatusCode grpc, string reason, string message, string appId, string ns) =>
        new(http, grpc, reason, message) { Details = new(reason, new Dictionary<string, string> { ["appID"] = appId, ["namespace"] = ns }) };

    private static Dictionary<string, string> AppIdMetadata(string appId) => new() { ["appID"] = appId };

    private static Dictionary<string, string> TopicMetadata(string topic, string error) => new() { ["topic"] = topic, ["error"] = error };

    public static DaprApiException NotSupportedStateOperation(string op) =>
        new(400, StatusCode.Unimplemented, "ERR_NOT_SUPPORTED_STATE_OPERATION", $"operation type {op} not supported");

    public static DaprApiException NoAppId() =>
        new(404, StatusCode.NotFound, "ERR_DIRECT_INVOKE", "failed getting app id either from the URL path or the header dapr-app-id");

    public static DaprApiException InvokeDenied(string appId, string message) =>
        new(403, StatusCode.PermissionDenied, "ERR_DIRECT_INVOKE", $"failed to invoke, id: {appId}, err: {message}");

    public static DaprApiException MetadataGet(string message) =>
        new(500, StatusCode.Internal, "ERR_METADATA_GET", message);

    public static DaprApiException Timeout(string appId) =>
        new(500, StatusCode.DeadlineExceeded, "ERR_DIRECT_INVOKE", $"failed to invoke, id: {appId}, err: context deadline exceeded");

    public static DaprApiException CircuitOpen(string appId) =>
        new(500, StatusCode.Unknown, "ERR_DIRECT_INVOKE", $"failed to invoke, id: {appId}, err: circuit breaker is open");

    // Actors: codes, messages and statuses as daprd's pkg/messages has them.
    public static DaprApiException ActorRuntimeNotFound() =>
        new(500, StatusCode.Internal, "ERR_ACTOR_RUNTIME_NOT_FOUND", "the state store is not configured to use the actor runtime. Have you set the - name: actorStateStore value: \"true\" in your state store component file?");

    public static DaprApiException ActorInstanceMissing() =>
        new(400, StatusCode.Internal, "ERR_ACTOR_INSTANCE_MISSING", "actor instance is missing");

    public static DaprApiException ActorInvoke(string message, Exception? ex = null) =>
        new(500, StatusCode.Internal, "ERR_ACTOR_INVOKE_METHOD", $"error invoke actor method: {message}", ex);

    public static DaprApiException ActorStateGet(string message, Exception? ex = null) =>
        new(500, StatusCode.Internal, "ERR_ACTOR_STATE_GET", $"error getting actor state: {message}", ex);

    public static DaprApiException ActorStateTransaction(string message, Exception? ex = null) =>
        new(500, StatusCode.Internal, "ERR_ACTOR_STATE_TRANSACTION_SAVE", $"error saving actor transaction state: {message}", ex);

    public static DaprApiException ActorReminderCreate(string message, Exception? ex = null) =>
        new(500, StatusCode.Internal, "ERR_ACTOR_REMINDER_CREATE", $"error creating actor reminder: {message}", ex);

    public static DaprApiException ActorReminderGet(string message, Exception? ex = null) =>
        new(500, StatusCode.Internal, "ERR_ACTOR_REMINDER_GET", $"error getting actor reminder: {message}", ex);

    public static DaprApiException ActorReminderNotFound(string name) =>
        new(404, StatusCode.NotFound, "ERR_ACTOR_REMINDER_NOT_FOUND", $"actor reminder not found: {name}");

    public static DaprApiException ActorReminderAlreadyExists(string name) =>
        new(409, StatusCode.AlreadyExists, "ERR_ACTOR_REMINDER_ALREADY_EXISTS", $"actor reminder already exists: {name}");

    public static DaprApiException ActorStackDepth() =>
        new(500, StatusCode.ResourceExhausted, "ERR_ACTOR_STACK_DEPTH", "maximum stack depth exceeded");

    public static DaprApiException ActorReminderDelete(string message, Exception? ex = null) =>
        new(500, StatusCode.Internal, "ERR_ACTOR_REMINDER_DELETE", $"error deleting actor reminder: {message}", ex);

    public static DaprApiException ActorReminderNonHosted() =>
        new(403, StatusCode.PermissionDenied, "ERR_ACTOR_REMINDER_NON_HOSTED", "operations on actor reminders are only possible on hosted actor types");

    public static DaprApiException ActorTimerCreate(string message, Exception? ex = null) =>
        new(500, StatusCode.Internal, "ERR_ACTOR_TIMER_CREATE", $"error creating actor timer: {message}", ex);

    public static DaprApiException ActorTimerDelete(string message, Exception? ex = null) =>
        new(500, StatusCode.Internal, "ERR_ACTOR_TIMER_DELETE", $"error deleting actor timer: {message}", ex);
}
