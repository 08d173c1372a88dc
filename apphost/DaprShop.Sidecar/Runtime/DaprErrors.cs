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
}

/// <summary>The errors the sidecar reports, with daprd's codes and statuses (see docs/sidecar.md for the table).</summary>
public static class DaprErrors
{
    public static DaprApiException MalformedRequest(string message) =>
        new(400, StatusCode.InvalidArgument, "ERR_MALFORMED_REQUEST", message);

    public static DaprApiException StateStoresNotConfigured(string name) =>
        new(500, StatusCode.FailedPrecondition, "ERR_STATE_STORE_NOT_CONFIGURED", $"state store {name} is not configured");

    public static DaprApiException StateStoreNotFound(string name) =>
        new(400, StatusCode.InvalidArgument, "ERR_STATE_STORE_NOT_FOUND", $"state store {name} is not found");

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
        new(500, StatusCode.Internal, "ERR_STATE_STORE_NOT_SUPPORTED", "state store does not support querying");

    public static DaprApiException StateQuery(string store, string message) =>
        new(500, StatusCode.Internal, "ERR_STATE_QUERY", $"state store {store} query failed: {message}");

    public static DaprApiException TransactionsNotSupported(string store) =>
        new(500, StatusCode.Unimplemented, "ERR_STATE_STORE_NOT_SUPPORTED", $"state store {store} doesn't support transactions");

    public static DaprApiException PubSubsNotConfigured() =>
        new(400, StatusCode.FailedPrecondition, "ERR_PUBSUB_NOT_CONFIGURED", "no pubsub is configured");

    public static DaprApiException PubSubNotFound(string name) =>
        new(404, StatusCode.InvalidArgument, "ERR_PUBSUB_NOT_FOUND", $"pubsub {name} is not found");

    public static DaprApiException PubSubForbidden(string topic, string appId) =>
        new(403, StatusCode.PermissionDenied, "ERR_PUBSUB_FORBIDDEN", $"topic {topic} is not allowed for app id {appId}");

    public static DaprApiException PubSubNameEmpty() =>
        new(404, StatusCode.InvalidArgument, "ERR_PUBSUB_EMPTY", "pubsub name is empty");

    public static DaprApiException TopicEmpty(string pubsub) =>
        new(404, StatusCode.InvalidArgument, "ERR_TOPIC_NAME_EMPTY", $"topic is empty in pubsub {pubsub}");

    public static DaprApiException PublishFailed(string topic, string pubsub, Exception ex) =>
        new(500, StatusCode.Internal, "ERR_PUBSUB_PUBLISH_MESSAGE", $"error when publishing to topic {topic} in pubsub {pubsub}: {ex.Message}", ex);

    public static DaprApiException CloudEventsSerialization(string topic, string pubsub, string problem) =>
        new(500, StatusCode.InvalidArgument, "ERR_PUBSUB_CLOUD_EVENTS_SER", $"error when marshalling cloud event envelope for topic {topic} pubsub {pubsub}: {problem}");

    public static DaprApiException PublishForbidden(string topic, string pubsub, string appId) =>
        new(403, StatusCode.PermissionDenied, "ERR_PUBSUB_FORBIDDEN", $"topic {topic} is not allowed for app id {appId} in pubsub {pubsub}");

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

    public static DaprApiException OutboundNotReady() =>
        new(500, StatusCode.Internal, "ERR_OUTBOUND_HEALTH_NOT_READY", "dapr outbound is not ready");

    public static DaprApiException BulkPublishEntries(string topic, string pubsub, string problem) =>
        new(400, StatusCode.InvalidArgument, "ERR_PUBSUB_EVENTS_SER", $"error marshaling events to bytes for topic {topic} pubsub {pubsub}. error: {problem}");

    public static DaprApiException PubSubMetadata(string message) =>
        new(400, StatusCode.InvalidArgument, "ERR_PUBSUB_REQUEST_METADATA", message);

    public static DaprApiException NotSupportedStateOperation(string op) =>
        new(400, StatusCode.Unimplemented, "ERR_NOT_SUPPORTED_STATE_OPERATION", $"operation type {op} not supported");

    public static DaprApiException NoAppId() =>
        new(404, StatusCode.NotFound, "ERR_DIRECT_INVOKE", "failed getting app id either from the URL path or the header dapr-app-id");

    public static DaprApiException InvokeDenied(string appId, string message) =>
        new(403, StatusCode.PermissionDenied, "ERR_DIRECT_INVOKE", $"failed to invoke, id: {appId}, err: {message}");

    public static DaprApiException ApiNotAllowed(string api) =>
        new(403, StatusCode.PermissionDenied, "ERR_API_NOT_ALLOWED", $"the API {api} is not allowed by the configuration");

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
