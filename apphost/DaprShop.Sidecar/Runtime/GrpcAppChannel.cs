using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapr.AppCallback.Autogen.Grpc.v1;
using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;

namespace DaprShop.Sidecar.Runtime;

/// <summary>What a request to the app is for: the HTTP callback it stands for, and the gRPC call it becomes for a gRPC app.</summary>
public enum AppCallKind { Invoke, ListSubscriptions, TopicEvent, BulkTopicEvent, ListInputBindings, BindingEvent, Health, ActorConfig, Actor, JobEvent }

/// <summary>Tags a request to the app with what it is for (untagged: a service invocation).</summary>
public static class AppCalls
{
    public static readonly HttpRequestOptionsKey<AppCallKind> Kind = new("daprshop.app-call");
    public static readonly HttpRequestOptionsKey<string> Binding = new("daprshop.app-call.binding");

    /// <summary>A job's trigger as a gRPC app receives it (the job's data as stored, which an HTTP body cannot carry).</summary>
    public static readonly HttpRequestOptionsKey<Dapr.AppCallback.Autogen.Grpc.v1.JobEventRequest> JobEvent = new("daprshop.app-call.job");

    /// <summary>The topic a message was delivered from (a dead letter's CloudEvent still names its first topic).</summary>
    public static readonly HttpRequestOptionsKey<string> Topic = new("daprshop.app-call.topic");

    /// <summary>
    /// On the HTTP answer made of a gRPC app's failed <c>OnInvoke</c>: the app's gRPC code, so that the calling
    /// sidecar's retry policy matches it against <c>matching.gRPCStatusCodes</c>, as daprd matches a gRPC callee's
    /// code. Between sidecars only: the caller's sidecar removes it.
    /// </summary>
    public const string GrpcStatusHeader = "daprshop-app-grpc-status";

    public static HttpRequestMessage As(this HttpRequestMessage request, AppCallKind kind)
    {
        request.Options.Set(Kind, kind);
        return request;
    }
}

/// <summary>
/// The app channel of <c>--app-protocol grpc</c>: the runtime builds every callback as the HTTP request it would send an
/// HTTP app, and this translates it into Dapr's <c>AppCallback</c> gRPC service and the answer back — OnInvoke,
/// ListTopicSubscriptions / OnTopicEvent (and OnBulkTopicEvent, or its Alpha1 form), ListInputBindings / OnBindingEvent, and
/// <c>AppCallbackHealthCheck</c> — so the semantics above the channel stay the same for both protocols. Actors have
/// no gRPC callback in Dapr's protocol: a gRPC app hosts none.
/// </summary>
public sealed class GrpcAppChannel : IDisposable
{
    private static readonly string[] Hop = ["host", "connection", "content-length", "content-type", "transfer-encoding", "keep-alive", "te", "upgrade", "traceparent", "tracestate"];
    // Dapr.Protos ships only the app's (server) side of these services: the calls are described from its descriptors.
    private static readonly Method<InvokeRequest, InvokeResponse> OnInvoke = Unary(AppCallback.Descriptor, "OnInvoke", InvokeRequest.Parser, InvokeResponse.Parser);
    private static readonly Method<Empty, ListTopicSubscriptionsResponse> ListTopicSubscriptions = Unary(AppCallback.Descriptor, "ListTopicSubscriptions", Empty.Parser, ListTopicSubscriptionsResponse.Parser);
    private static readonly Method<TopicEventRequest, TopicEventResponse> OnTopicEvent = Unary(AppCallback.Descriptor, "OnTopicEvent", TopicEventRequest.Parser, TopicEventResponse.Parser);
    private static readonly Method<Empty, ListInputBindingsResponse> ListInputBindings = Unary(AppCallback.Descriptor, "ListInputBindings", Empty.Parser, ListInputBindingsResponse.Parser);
    private static readonly Method<BindingEventRequest, BindingEventResponse> OnBindingEvent = Unary(AppCallback.Descriptor, "OnBindingEvent", BindingEventRequest.Parser, BindingEventResponse.Parser);
    private static readonly Method<TopicEventBulkRequest, TopicEventBulkResponse> OnBulkTopicEvent = Unary(AppCallback.Descriptor, "OnBulkTopicEvent", TopicEventBulkRequest.Parser, TopicEventBulkResponse.Parser);
    private static readonly Method<TopicEventBulkRequest, TopicEventBulkResponse> OnBulkTopicEventAlpha1 = Unary(AppCallbackAlpha.Descriptor, "OnBulkTopicEventAlpha1", TopicEventBulkRequest.Parser, TopicEventBulkResponse.Parser);
    private static readonly Method<JobEventRequest, JobEventResponse> OnJobEventAlpha1 = Unary(AppCallbackAlpha.Descriptor, "OnJobEventAlpha1", JobEventRequest.Parser, JobEventResponse.Parser);
    private static readonly Method<Empty, HealthCheckResponse> HealthCheck = Unary(AppCallbackHealthCheck.Descriptor, "HealthCheck", Empty.Parser, HealthCheckResponse.Parser);

    private readonly GrpcChannel _channel;
    private readonly CallInvoker _calls;
    private IReadOnlySet<string>? _inputBindings;

    public GrpcAppChannel(Uri address)
    {
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { MaxReceiveMessageSize = null, MaxSendMessageSize = null });
        _calls = _channel.CreateCallInvoker();
    }

    private static Method<TRequest, TResponse> Unary<TRequest, TResponse>(Google.Protobuf.Reflection.ServiceDescriptor service, string name, MessageParser<TRequest> request, MessageParser<TResponse> response)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        new(MethodType.Unary, service.FullName, service.FindMethodByName(name)?.Name ?? throw new InvalidOperationException($"{service.FullName} has no method {name}"),
            Marshallers.Create(m => m.ToByteArray(), request.ParseFrom), Marshallers.Create(m => m.ToByteArray(), response.ParseFrom));

    private AsyncUnaryCall<TResponse> Call<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, Metadata headers, CancellationToken ct)
        where TRequest : class
        where TResponse : class =>
        _calls.AsyncUnaryCall(method, null, new CallOptions(headers, cancellationToken: ct), request);

    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var kind = request.Options.TryGetValue(AppCalls.Kind, out var k) ? k : AppCallKind.Invoke;
        var headers = Headers(request);
        try
        {
            return kind switch
            {
                AppCallKind.Invoke => await InvokeAsync(request, headers, ct),
                AppCallKind.ListSubscriptions => await ListSubscriptionsAsync(headers, ct),
                AppCallKind.TopicEvent => await TopicEventAsync(request, headers, ct),
                AppCallKind.BulkTopicEvent => await BulkTopicEventAsync(request, headers, ct),
                AppCallKind.ListInputBindings => await InputBindingAsync(request, headers, ct),
                AppCallKind.BindingEvent => await BindingEventAsync(request, headers, ct),
                AppCallKind.Health => await HealthAsync(headers, ct),
                AppCallKind.JobEvent => await JobEventAsync(request, headers, ct),
                _ => Answer(HttpStatusCode.NotFound, "application/json", "{}"u8.ToArray()), // /dapr/config and actors: none here
            };
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable)
        {
            throw new HttpRequestException($"the gRPC app is unavailable: {ex.Status.Detail}", ex);
        }
        catch (RpcException ex)
        {
            // daprd answers an HTTP caller with the HTTP status that matches the app's gRPC code.
            var answer = Answer(StatusOf(ex.StatusCode), "text/plain", Encoding.UTF8.GetBytes(ex.Status.Detail));
            if (kind == AppCallKind.Invoke)
            {
                answer.Headers.TryAddWithoutValidation(AppCalls.GrpcStatusHeader, ((int)ex.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            return answer;
        }
    }

    private async Task<HttpResponseMessage> InvokeAsync(HttpRequestMessage request, Metadata headers, CancellationToken ct)
    {
        var uri = request.RequestUri!;
        var path = uri.IsAbsoluteUri ? uri.AbsolutePath : uri.OriginalString.Split('?', 2)[0];
        var query = uri.IsAbsoluteUri ? uri.Query.TrimStart('?') : uri.OriginalString.Split('?', 2).ElementAtOrDefault(1) ?? "";
        var message = new InvokeRequest
        {
            Method = Uri.UnescapeDataString(path.TrimStart('/')),
            ContentType = request.Content?.Headers.ContentType?.ToString() ?? "",
            Data = new Any { Value = ByteString.CopyFrom(request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(ct)) },
            HttpExtension = new HTTPExtension { Verb = VerbOf(request.Method), Querystring = query },
        };
        using var call = Call(OnInvoke, message, headers, ct);
        var answer = await call.ResponseAsync;
        var response = Answer(HttpStatusCode.OK, answer.ContentType is { Length: > 0 } type ? type : "application/json", answer.Data?.Value.ToByteArray() ?? []);
        foreach (var header in await call.ResponseHeadersAsync)
        {
            if (!header.IsBinary && !Hop.Contains(header.Key))
            {
                response.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }
        return response;
    }

    private async Task<HttpResponseMessage> ListSubscriptionsAsync(Metadata headers, CancellationToken ct)
    {
        ListTopicSubscriptionsResponse answer;
        try
        {
            answer = await Call(ListTopicSubscriptions, new Empty(), headers, ct);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unimplemented)
        {
            return Answer(HttpStatusCode.NotFound, "application/json", "[]"u8.ToArray()); // no subscriptions
        }
        // The same JSON an HTTP app answers at GET /dapr/subscribe.
        var list = new JsonArray([.. answer.Subscriptions.Select(s => (JsonNode)new JsonObject
        {
            ["pubsubname"] = s.PubsubName,
            ["topic"] = s.Topic,
            ["metadata"] = new JsonObject([.. s.Metadata.Select(m => KeyValuePair.Create(m.Key, (JsonNode?)m.Value))]),
            ["routes"] = new JsonObject
            {
                ["rules"] = new JsonArray([.. (s.Routes?.Rules ?? []).Select(r => (JsonNode)new JsonObject { ["match"] = r.Match, ["path"] = r.Path })]),
                // Without routes daprd delivers with an empty path; "/" is this runtime's way of routing there.
                ["default"] = s.Routes?.Default is { Length: > 0 } d ? d : "/",
            },
            ["deadLetterTopic"] = s.DeadLetterTopic,
            ["bulkSubscribe"] = s.BulkSubscribe is { } b
                ? new JsonObject { ["enabled"] = b.Enabled, ["maxMessagesCount"] = b.MaxMessagesCount, ["maxAwaitDurationMs"] = b.MaxAwaitDurationMs }
                : null,
        })]);
        return Answer(HttpStatusCode.OK, "application/json", JsonSerializer.SerializeToUtf8Bytes(list));
    }

    private async Task<HttpResponseMessage> TopicEventAsync(HttpRequestMessage request, Metadata headers, CancellationToken ct)
    {
        var ce = JsonNode.Parse(await request.Content!.ReadAsByteArrayAsync(ct))!.AsObject();
        var message = ToTopicEvent(ce, PathOf(request));
        // As daprd: the topic and pubsub the message came from, not what its CloudEvent says.
        message.Topic = request.Options.TryGetValue(AppCalls.Topic, out var topic) ? topic : message.Topic;
        message.PubsubName = request.Headers.TryGetValues("pubsubname", out var names) ? names.First() : message.PubsubName;
        try
        {
            var answer = await Call(OnTopicEvent, message, headers, ct);
            return Answer(HttpStatusCode.OK, "application/json", JsonSerializer.SerializeToUtf8Bytes(new { status = StatusName(answer.Status) }));
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unimplemented)
        {
            return Answer(HttpStatusCode.NotFound, "text/plain", Encoding.UTF8.GetBytes(ex.Status.Detail)); // dropped, as daprd does
        }
    }

    private async Task<HttpResponseMessage> BulkTopicEventAsync(HttpRequestMessage request, Metadata headers, CancellationToken ct)
    {
        var envelope = JsonNode.Parse(await request.Content!.ReadAsByteArrayAsync(ct))!.AsObject();
        var message = new TopicEventBulkRequest
        {
            Id = (string?)envelope["id"] ?? "",
            Topic = (string?)envelope["topic"] ?? "",
            PubsubName = (string?)envelope["pubsubname"] ?? "",
            Type = (string?)envelope["type"] ?? "",
            Path = PathOf(request),
        };
        foreach (var (key, value) in envelope["metadata"]?.AsObject() ?? [])
        {
            message.Metadata[key] = (string?)value ?? "";
        }
        foreach (var entry in envelope["entries"]!.AsArray())
        {
            var item = new TopicEventBulkRequestEntry { EntryId = (string?)entry!["entryId"] ?? "", ContentType = (string?)entry["contentType"] ?? "" };
            foreach (var (key, value) in entry["metadata"]?.AsObject() ?? [])
            {
                item.Metadata[key] = (string?)value ?? "";
            }
            if (entry["event"] is JsonObject ce)
            {
                var e = ToTopicEvent(ce, message.Path);
                item.CloudEvent = new TopicEventCERequest
                {
                    Id = e.Id, Source = e.Source, Type = e.Type, SpecVersion = e.SpecVersion, DataContentType = e.DataContentType, Data = e.Data, Extensions = e.Extensions,
                };
            }
            else
            {
                item.Bytes = ByteString.CopyFrom(Convert.FromBase64String((string?)entry["event"] ?? ""));
            }
            message.Entries.Add(item);
        }
        TopicEventBulkResponse answer;
        try
        {
            answer = await Call(OnBulkTopicEvent, message, headers, ct);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unimplemented)
        {
            answer = await Call(OnBulkTopicEventAlpha1, message, headers, ct); // an app built before the method was stable
        }
        var statuses = answer.Statuses.Select(s => new { entryId = s.EntryId, status = StatusName(s.Status) });
        return Answer(HttpStatusCode.OK, "application/json", JsonSerializer.SerializeToUtf8Bytes(new { statuses }));
    }

    // OPTIONS /{route}: does the app listen to this input binding? For a gRPC app: is it in ListInputBindings?
    private async Task<HttpResponseMessage> InputBindingAsync(HttpRequestMessage request, Metadata headers, CancellationToken ct)
    {
        if (_inputBindings is null)
        {
            try
            {
                _inputBindings = (await Call(ListInputBindings, new Empty(), headers, ct)).Bindings.ToHashSet(StringComparer.Ordinal);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unimplemented)
            {
                _inputBindings = new HashSet<string>();
            }
        }
        var name = request.Options.TryGetValue(AppCalls.Binding, out var n) ? n : PathOf(request);
        return Answer(_inputBindings.Contains(name) ? HttpStatusCode.OK : HttpStatusCode.NotFound, "text/plain", []);
    }

    private async Task<HttpResponseMessage> BindingEventAsync(HttpRequestMessage request, Metadata headers, CancellationToken ct)
    {
        var message = new BindingEventRequest
        {
            Name = request.Options.TryGetValue(AppCalls.Binding, out var n) ? n : PathOf(request),
            Data = ByteString.CopyFrom(await request.Content!.ReadAsByteArrayAsync(ct)),
        };
        foreach (var header in request.Headers)
        {
            message.Metadata[header.Key] = string.Join(',', header.Value);
        }
        var answer = await Call(OnBindingEvent, message, headers, ct);
        return Answer(HttpStatusCode.OK, "application/json", answer.Data?.ToByteArray() ?? []);
    }

    private async Task<HttpResponseMessage> JobEventAsync(HttpRequestMessage request, Metadata headers, CancellationToken ct)
    {
        var message = request.Options.TryGetValue(AppCalls.JobEvent, out var job) ? job : throw new InvalidOperationException("a job trigger carries its JobEventRequest");
        await Call(OnJobEventAlpha1, message, headers, ct);
        return Answer(HttpStatusCode.OK, "application/json", []);
    }

    private async Task<HttpResponseMessage> HealthAsync(Metadata headers, CancellationToken ct)
    {
        await Call(HealthCheck, new Empty(), headers, ct);
        return Answer(HttpStatusCode.OK, "text/plain", []);
    }

    /// <summary>The proto status as the HTTP answer spells it (SUCCESS, RETRY, DROP), which the runtime reads exactly.</summary>
    private static string StatusName(TopicEventResponse.Types.TopicEventResponseStatus status) => status.ToString().ToUpperInvariant();

    /// <summary>A CloudEvent as OnTopicEvent carries it: the standard fields, the data as bytes, every other field an extension.</summary>
    internal static TopicEventRequest ToTopicEvent(JsonObject ce, string path)
    {
        var message = new TopicEventRequest
        {
            Id = (string?)ce["id"] ?? "",
            Source = (string?)ce["source"] ?? "",
            Type = (string?)ce["type"] ?? "",
            SpecVersion = (string?)ce["specversion"] ?? "",
            DataContentType = (string?)ce["datacontenttype"] ?? "",
            Topic = (string?)ce["topic"] ?? "",
            PubsubName = (string?)ce["pubsubname"] ?? "",
            Path = path,
            Extensions = new Struct(),
        };
        if (ce["data_base64"] is JsonValue b64 && b64.TryGetValue<string>(out var base64))
        {
            message.Data = ByteString.CopyFrom(Convert.FromBase64String(base64));
        }
        else if (ce["data"] is JsonValue text && text.TryGetValue<string>(out var s) && !message.DataContentType.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            message.Data = ByteString.CopyFromUtf8(s); // text data is its text, not a JSON string
        }
        else if (ce["data"] is { } data)
        {
            message.Data = ByteString.CopyFromUtf8(data.ToJsonString());
        }
        foreach (var (key, value) in ce)
        {
            if (key is not ("id" or "source" or "type" or "specversion" or "datacontenttype" or "data" or "data_base64") && value is not null)
            {
                message.Extensions.Fields[key] = Value.Parser.ParseJson(value.ToJsonString());
            }
        }
        return message;
    }

    private static Metadata Headers(HttpRequestMessage request)
    {
        var metadata = new Metadata();
        foreach (var header in request.Headers.Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>()))
        {
            var key = header.Key.ToLowerInvariant();
            if (!Hop.Contains(key) && !key.EndsWith("-bin", StringComparison.Ordinal) && key.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_' or '.'))
            {
                metadata.Add(key, string.Join(',', header.Value));
            }
        }
        foreach (var trace in new[] { "traceparent", "tracestate" })
        {
            if (request.Headers.TryGetValues(trace, out var values))
            {
                metadata.Add(trace, string.Join(',', values));
            }
        }
        return metadata;
    }

    private static string PathOf(HttpRequestMessage request)
    {
        var uri = request.RequestUri!;
        return (uri.IsAbsoluteUri ? uri.AbsolutePath : uri.OriginalString.Split('?', 2)[0]).TrimStart('/');
    }

    private static HTTPExtension.Types.Verb VerbOf(HttpMethod method) =>
        System.Enum.TryParse<HTTPExtension.Types.Verb>(method.Method, ignoreCase: true, out var verb) ? verb : HTTPExtension.Types.Verb.Post;

    private static HttpResponseMessage Answer(HttpStatusCode status, string contentType, byte[] body)
    {
        var response = new HttpResponseMessage(status) { Content = new ByteArrayContent(body) };
        response.Content.Headers.ContentType = MediaTypeHeaderValue.TryParse(contentType, out var type) ? type : null;
        return response;
    }

    // The HTTP status daprd gives an HTTP caller for a gRPC status.
    private static HttpStatusCode StatusOf(StatusCode code) => code switch
    {
        StatusCode.OK => HttpStatusCode.OK,
        StatusCode.Cancelled => (HttpStatusCode)499,
        StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.OutOfRange => HttpStatusCode.BadRequest,
        StatusCode.DeadlineExceeded => HttpStatusCode.GatewayTimeout,
        StatusCode.NotFound => HttpStatusCode.NotFound,
        StatusCode.AlreadyExists or StatusCode.Aborted => HttpStatusCode.Conflict,
        StatusCode.PermissionDenied => HttpStatusCode.Forbidden,
        StatusCode.Unauthenticated => HttpStatusCode.Unauthorized,
        StatusCode.ResourceExhausted => HttpStatusCode.TooManyRequests,
        StatusCode.Unimplemented => HttpStatusCode.NotImplemented,
        StatusCode.Unavailable => HttpStatusCode.ServiceUnavailable,
        _ => HttpStatusCode.InternalServerError,
    };

    public void Dispose() => _channel.Dispose();
}
