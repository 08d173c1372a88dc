using System.Text;
using System.Text.Json;
using DaprShop.Sidecar.Mesh;
using DaprShop.Sidecar.Runtime;
using Microsoft.AspNetCore.Http.Features;

namespace DaprShop.Sidecar.Http;

/// <summary>
/// Dapr's HTTP API (<c>/v1.0/...</c>) on the <c>--dapr-http-port</c>. Every handler only translates between HTTP
/// and the core in <see cref="Runtime"/>, which the gRPC API shares.
/// </summary>
public static class HttpApi
{
    private static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();

    public static void MapDaprHttpApi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1.0");

        // ?appid= lets a prober check that it reached the sidecar it meant to (after readiness, as daprd checks).
        v1.MapGet("/healthz", (SidecarState state, Hosting.SidecarOptions options, string? appid) =>
            !state.Ready ? Error(DaprErrors.NotReady("app"))
            : !string.IsNullOrEmpty(appid) && appid != options.AppId ? Error(DaprErrors.HealthAppIdNotMatch())
            : Results.NoContent());
        v1.MapGet("/healthz/outbound", (SidecarState state) => state.OutboundReady ? Results.NoContent() : Error(DaprErrors.OutboundNotReady()));

        v1.MapGet("/metadata", (MetadataApi metadata) => Results.Json(metadata.Get()));
        v1.MapPut("/metadata/{key}", async (string key, HttpRequest request, MetadataApi metadata) =>
        {
            metadata.Set(key, Encoding.UTF8.GetString(await ReadBodyAsync(request)));
            return Results.NoContent();
        });
        v1.MapPost("/shutdown", (SidecarState state) =>
        {
            state.ShutdownRequested.Cancel();
            return Results.NoContent();
        });

        MapState(v1, app.MapGroup("/v1.0-alpha1"));
        MapPubSub(v1, app.MapGroup("/v1.0-alpha1"));
        MapBindingsAndSecrets(v1);
        MapConfiguration(v1);
        MapConfiguration(app.MapGroup("/v1.0-alpha1"));
        MapLocks(app.MapGroup("/v1.0-alpha1"));
        MapInvocation(app, v1);
    }

    private static void MapLocks(RouteGroupBuilder alpha)
    {
        static string Text(JsonElement root, string name) =>
            root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";

        alpha.MapPost("/lock/{store}", async (string store, HttpRequest request, LockApi locks, CancellationToken ct) =>
        {
            using var doc = await ParseBodyAsync(request, ct);
            var root = doc.RootElement;
            var expiry = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("expiryInSeconds", out var e) && e.TryGetInt32(out var n) ? n : 0;
            return Results.Json(new { success = await locks.TryLockAsync(store, Text(root, "resourceId"), Text(root, "lockOwner"), expiry, ct) });
        });
        alpha.MapPost("/unlock/{store}", async (string store, HttpRequest request, LockApi locks, CancellationToken ct) =>
        {
            using var doc = await ParseBodyAsync(request, ct);
            return Results.Json(new { status = (int)await locks.UnlockAsync(store, Text(doc.RootElement, "resourceId"), Text(doc.RootElement, "lockOwner"), ct) });
        });
    }

    private static void MapConfiguration(RouteGroupBuilder group)
    {
        static IReadOnlyList<string> Keys(HttpRequest request) => [.. request.Query["key"].Where(k => !string.IsNullOrEmpty(k)).Select(k => k!)];
        static object Json(Components.Configuration.ConfigurationItem i) => new { value = i.Value, version = i.Version, metadata = i.Metadata };

        group.MapGet("/configuration/{store}", async (string store, HttpRequest request, ConfigurationApi configuration, CancellationToken ct) =>
            Results.Json((await configuration.GetAsync(store, Keys(request), QueryMetadata(request), ct)).ToDictionary(i => i.Key, i => Json(i.Value))));
        group.MapGet("/configuration/{store}/subscribe", async (string store, HttpRequest request, ConfigurationApi configuration, CancellationToken ct) =>
            Results.Json(new { id = await configuration.SubscribeForAppAsync(store, Keys(request), QueryMetadata(request), ct) }));
        group.MapGet("/configuration/{store}/{id}/unsubscribe", async (string store, string id, ConfigurationApi configuration) =>
        {
            await configuration.UnsubscribeAsync(store, id);
            return Results.Json(new { ok = true, message = "" });
        });
    }

    private static void MapState(RouteGroupBuilder v1, RouteGroupBuilder alpha)
    {
        v1.MapGet("/state/{store}/{key}", async (string store, string key, HttpRequest request, StateApi state, CancellationToken ct) =>
        {
            var result = await state.GetAsync(store, key, QueryMetadata(request), ct);
            if (result is null)
            {
                return Results.NoContent();
            }
            request.HttpContext.Response.Headers.ETag = result.ETag;
            foreach (var (k, v) in result.Metadata)
            {
                request.HttpContext.Response.Headers[$"metadata.{k}"] = v;
            }
            return Results.Bytes(result.Value, "application/json"); // daprd's content type for any value
        });

        // Each handler finds the store before it reads the body, as daprd does, so an unknown store is reported as such.
        v1.MapMethods("/state/{store}", ["POST", "PUT"], async (string store, HttpRequest request, StateApi state, CancellationToken ct) =>
        {
            state.Store(store);
            using var doc = await ParseBodyAsync(request, ct);
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw DaprErrors.MalformedRequest("failed deserializing HTTP body: the body must be a JSON array of state items");
            }
            var queryMetadata = QueryMetadata(request);
            var items = doc.RootElement.EnumerateArray().Select(e => ReadStateItem(e, queryMetadata)).ToList();
            await state.SaveAsync(store, items, ct);
            return Results.NoContent();
        });

        v1.MapDelete("/state/{store}/{key}", async (string store, string key, HttpRequest request, StateApi state, CancellationToken ct) =>
        {
            var etag = request.Headers.IfMatch.ToString();
            await state.DeleteAsync(store, key, etag.Length == 0 ? null : etag, request.Query["concurrency"], QueryMetadata(request), ct, request.Query["consistency"]);
            return Results.NoContent();
        });

        v1.MapMethods("/state/{store}/bulk", ["POST", "PUT"], async (string store, HttpRequest request, StateApi state, CancellationToken ct) =>
        {
            state.Store(store);
            using var doc = await ParseBodyAsync(request, ct);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("keys", out var keysElement) || keysElement.ValueKind != JsonValueKind.Array)
            {
                throw DaprErrors.MalformedRequest("failed deserializing HTTP body: expected {\"keys\": [...]}");
            }
            var keys = keysElement.EnumerateArray().Select(k => k.ValueKind == JsonValueKind.String ? k.GetString()! : throw Malformed("keys", "a string")).ToList();
            var parallelism = !root.TryGetProperty("parallelism", out var p) || p.ValueKind == JsonValueKind.Null ? 0
                : p.ValueKind == JsonValueKind.Number && p.TryGetInt32(out var n) ? n : throw Malformed("parallelism", "a number");
            var items = await state.GetBulkAsync(store, keys, parallelism, QueryMetadata(request), ct);
            return Results.Text(JsonValues.BulkStateJson(items), "application/json", Encoding.UTF8);
        });

        v1.MapMethods("/state/{store}/transaction", ["POST", "PUT"], async (string store, HttpRequest request, StateApi state, CancellationToken ct) =>
        {
            state.TransactionalStore(store);
            using var doc = await ParseBodyAsync(request, ct);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw DaprErrors.MalformedRequest("failed deserializing HTTP body: expected {\"operations\": [...]}");
            }
            var metadata = root.TryGetProperty("metadata", out var m) ? StringMap(m) : Empty;
            var ops = new List<TransactionInput>();
            if (root.TryGetProperty("operations", out var operations) && operations.ValueKind == JsonValueKind.Array)
            {
                foreach (var op in operations.EnumerateArray())
                {
                    if (op.ValueKind != JsonValueKind.Object)
                    {
                        throw Malformed("operations", "an array of objects");
                    }
                    var kind = OptionalString(op, "operation") ?? "";
                    if (!op.TryGetProperty("request", out var r) || r.ValueKind != JsonValueKind.Object)
                    {
                        throw DaprErrors.MalformedRequest("failed deserializing HTTP body: each operation needs a 'request'");
                    }
                    ops.Add(new TransactionInput(kind, ReadStateItem(r, metadata)));
                }
            }
            await state.TransactAsync(store, ops, metadata, ct);
            return Results.NoContent();
        });

        alpha.MapMethods("/state/{store}/query", ["POST", "PUT"], async (string store, HttpRequest request, StateApi state, CancellationToken ct) =>
        {
            var (items, token) = await state.QueryAsync(store, await ReadBodyAsync(request), ct);
            return items.Count == 0 ? Results.NoContent() : Results.Text(JsonValues.QueryJson(items, token), "application/json", Encoding.UTF8);
        });
    }

    private static void MapPubSub(RouteGroupBuilder v1, RouteGroupBuilder alpha)
    {
        v1.MapMethods("/publish/{pubsub}/{**topic}", ["POST", "PUT"], async (string pubsub, string? topic, HttpRequest request, PubSubApi api, CancellationToken ct) =>
        {
            var body = await ReadBodyAsync(request);
            await api.PublishAsync(pubsub, topic ?? "", body, request.ContentType, QueryMetadata(request), ct);
            return Results.NoContent();
        });

        async Task<IResult> BulkPublish(string pubsub, string? topic, HttpRequest request, PubSubApi api, CancellationToken ct)
        {
            var metadata = QueryMetadata(request);
            api.Find(pubsub, topic ?? "", metadata); // the component and topic are checked before the body, as daprd does
            JsonDocument doc;
            try
            {
                doc = await JsonDocument.ParseAsync(request.Body, cancellationToken: ct);
            }
            catch (JsonException ex)
            {
                throw api.BodyError(pubsub, topic ?? "", ex.Message);
            }
            using var _ = doc;
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw api.BodyError(pubsub, topic ?? "", "the body must be a JSON array of entries");
            }
            var entries = new List<BulkPublishEntry>();
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                if (e.ValueKind != JsonValueKind.Object)
                {
                    throw api.BodyError(pubsub, topic ?? "", "each entry must be a JSON object");
                }
                var contentType = e.TryGetProperty("contentType", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                byte[] data;
                try
                {
                    data = e.TryGetProperty("event", out var ev) ? JsonValues.EventBytes(ev, contentType) : throw new FormatException("error: mismatch between contentType and event");
                }
                catch (FormatException ex)
                {
                    throw api.EntryError(pubsub, topic ?? "", ex.Message);
                }
                entries.Add(new BulkPublishEntry(
                    e.TryGetProperty("entryId", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() ?? "" : "", data, contentType,
                    e.TryGetProperty("metadata", out var md) && md.ValueKind == JsonValueKind.Object ? StringMap(md) : null));
            }
            var failures = await api.BulkPublishAsync(pubsub, topic ?? "", entries, metadata, ct);
            if (failures.Count == 0)
            {
                return Results.NoContent();
            }
            return Results.Json(new
            {
                failedEntries = failures.Select(f => new { entryId = f.EntryId, error = f.Error }),
                errorCode = "ERR_PUBSUB_PUBLISH_MESSAGE",
            }, statusCode: 500);
        }

        alpha.MapMethods("/publish/bulk/{pubsub}/{**topic}", ["POST", "PUT"], BulkPublish);
        v1.MapPost("/publish/bulk/{pubsub}/{**topic}", BulkPublish);
    }

    private static void MapBindingsAndSecrets(RouteGroupBuilder v1)
    {
        v1.MapMethods("/bindings/{name}", ["POST", "PUT"], async (string name, HttpRequest request, BindingsApi bindings, CancellationToken ct) =>
        {
            using var doc = await ParseBodyAsync(request, ct);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw DaprErrors.MalformedRequest("failed deserializing HTTP body: expected {\"operation\": .., \"data\": .., \"metadata\": {..}}");
            }
            var operation = OptionalString(root, "operation") ?? "";
            var metadata = root.TryGetProperty("metadata", out var m) ? StringMap(m) : Empty;
            var data = JsonValues.BindingData(root.TryGetProperty("data", out var d) ? d : null);
            var response = await bindings.InvokeAsync(name, operation, data, metadata, ct);
            foreach (var (k, v) in response.Metadata)
            {
                request.HttpContext.Response.Headers[$"metadata.{k}"] = v;
            }
            // daprd answers application/json whatever the binding returned; the binding's own metadata are the headers above.
            return response.Data is null ? Results.NoContent() : Results.Bytes(response.Data, "application/json");
        });

        v1.MapGet("/secrets/{store}/bulk", async (string store, HttpRequest request, SecretsApi secrets, CancellationToken ct) =>
            Results.Json(await secrets.GetBulkAsync(store, QueryMetadata(request), ct)));

        v1.MapGet("/secrets/{store}/{key}", async (string store, string key, HttpRequest request, SecretsApi secrets, CancellationToken ct) =>
            Results.Json(await secrets.GetAsync(store, key, QueryMetadata(request), ct)));
    }

    private static void MapInvocation(IEndpointRouteBuilder app, RouteGroupBuilder v1)
    {
        // daprd: an app id in the dapr-app-id header (or Basic credentials) wins over the path, which then is the method.
        v1.Map("/invoke/{appId}/method/{**method}", async (string appId, string? method, HttpContext context, InvocationApi invocation) =>
        {
            if (!await Invoke.TryHeaderFormAsync(context, invocation))
            {
                await Invoke.ProxyAsync(context, invocation, appId, method ?? "");
            }
        });

        // Internal hop from another sidecar of the local mesh, authenticated by this sidecar's own mesh token.
        app.Map(InvocationApi.MeshInvokePrefix + "{**method}", async (string? method, HttpContext context, InvocationApi invocation, MeshRegistry mesh) =>
        {
            if (!mesh.IsValidToken(context.Request.Headers[MeshBroker.TokenHeader]))
            {
                return Results.StatusCode(403);
            }
            await Invoke.ServeFromMeshAsync(context, invocation, method ?? "");
            return Results.Empty;
        });

        app.MapPost("/_daprshop/mesh/pubsub/{pubsub}", async (string pubsub, HttpContext context, MeshBroker broker, MeshRegistry mesh) =>
        {
            if (!mesh.IsValidToken(context.Request.Headers[MeshBroker.TokenHeader]))
            {
                return Results.StatusCode(403);
            }
            var message = await context.Request.ReadFromJsonAsync<MeshMessage>(context.RequestAborted);
            return message is not null && broker.Receive(pubsub, message) ? Results.NoContent() : Results.NotFound();
        });
    }

    internal static IResult Error(DaprApiException ex) =>
        Results.Text(RichErrors.ToJson(ex).ToJsonString(), "application/json", Encoding.UTF8, ex.HttpStatus);

    private static StateItemInput ReadStateItem(JsonElement e, IReadOnlyDictionary<string, string> extraMetadata)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw DaprErrors.MalformedRequest("failed deserializing HTTP body: each state item must be an object");
        }
        var key = OptionalString(e, "key") ?? "";
        var value = e.TryGetProperty("value", out var v) ? Encoding.UTF8.GetBytes(v.GetRawText()) : "null"u8.ToArray();
        string? etag = null;
        if (e.TryGetProperty("etag", out var t) && t.ValueKind != JsonValueKind.Null)
        {
            etag = t.ValueKind == JsonValueKind.String ? t.GetString() : t.GetRawText();
        }
        string? concurrency = null;
        string? consistency = null;
        if (e.TryGetProperty("options", out var o) && o.ValueKind != JsonValueKind.Null)
        {
            if (o.ValueKind != JsonValueKind.Object)
            {
                throw Malformed("options", "an object");
            }
            concurrency = OptionalString(o, "concurrency");
            consistency = OptionalString(o, "consistency");
        }
        var metadata = new Dictionary<string, string>(extraMetadata, StringComparer.Ordinal);
        if (e.TryGetProperty("metadata", out var m))
        {
            foreach (var (mk, mv) in StringMap(m))
            {
                metadata[mk] = mv;
            }
        }
        return new StateItemInput(key, value, etag, concurrency, metadata, consistency);
    }

    /// <summary>A field of the wrong JSON kind: daprd's decoder refuses the body.</summary>
    private static DaprApiException Malformed(string field, string kind) =>
        DaprErrors.MalformedRequest($"failed deserializing HTTP body: '{field}' must be {kind}");

    private static string? OptionalString(JsonElement e, string name) =>
        !e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == JsonValueKind.String ? v.GetString() : throw Malformed(name, "a string");

    /// <summary>Dapr passes request metadata as <c>metadata.{name}</c> query parameters.</summary>
    public static IReadOnlyDictionary<string, string> QueryMetadata(HttpRequest request)
    {
        Dictionary<string, string>? result = null;
        foreach (var (key, value) in request.Query)
        {
            // As daprd: the prefix exactly as written, and the first value of a repeated key.
            if (key.StartsWith("metadata.", StringComparison.Ordinal) && key.Length > 9)
            {
                (result ??= new Dictionary<string, string>(StringComparer.Ordinal))[key[9..]] = value.Count > 0 ? value[0] ?? "" : "";
            }
        }
        return result ?? Empty;
    }

    private static Dictionary<string, string> StringMap(JsonElement e)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (e.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in e.EnumerateObject())
            {
                map[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
            }
        }
        return map;
    }

    public static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
        return buffer.ToArray();
    }

    private static async Task<JsonDocument> ParseBodyAsync(HttpRequest request, CancellationToken ct)
    {
        var body = await ReadBodyAsync(request);
        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            _ = ct;
            throw DaprErrors.MalformedRequest($"failed deserializing HTTP body: {ex.Message}");
        }
    }

    public static bool IsInternalPath(PathString path) => path.StartsWithSegments("/_daprshop/mesh");

    internal static void DisableBuffering(HttpContext context) =>
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
}
