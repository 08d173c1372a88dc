using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DaprShop.Sidecar.Mesh;
using DaprShop.Sidecar.Runtime;
using DaprShop.Sidecar.Runtime.Actors;

namespace DaprShop.Sidecar.Http;

/// <summary>
/// Dapr's HTTP actor API (<c>/v1.0/actors/...</c>) and the internal mesh hop that carries a call to the sidecar
/// hosting the actor. Handlers only translate; the behaviour lives in <see cref="Runtime.Actors"/>.
/// </summary>
public static class ActorHttpApi
{
    public static void MapActorApi(this IEndpointRouteBuilder app)
    {
        var actors = app.MapGroup("/v1.0/actors/{actorType}/{actorId}");

        actors.MapMethods("/method/{**method}", ["GET", "POST", "PUT", "DELETE"], async (string actorType, string actorId, string? method, HttpContext context, ActorRuntime runtime) =>
        {
            var call = await ToCallAsync(context, actorType, actorId, method ?? "");
            var response = await runtime.InvokeAsync(call, context.RequestAborted);
            await WriteAsync(context, response);
        });

        actors.MapMethods("/state", ["POST", "PUT"], async (string actorType, string actorId, HttpRequest request, ActorStateApi state, CancellationToken ct) =>
        {
            using var doc = await ParseAsync(request);
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw DaprErrors.MalformedRequest("failed deserializing HTTP body: expected a JSON array of operations");
            }
            var ops = new List<ActorStateOperation>();
            foreach (var op in doc.RootElement.EnumerateArray())
            {
                var kind = op.TryGetProperty("operation", out var o) && o.ValueKind == JsonValueKind.String ? o.GetString()! : "";
                var r = op.TryGetProperty("request", out var rq) && rq.ValueKind == JsonValueKind.Object ? rq : default;
                var key = r.ValueKind == JsonValueKind.Object && r.TryGetProperty("key", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString()! : "";
                byte[]? value = r.ValueKind == JsonValueKind.Object && r.TryGetProperty("value", out var v) ? Encoding.UTF8.GetBytes(v.GetRawText()) : null;
                var metadata = r.ValueKind == JsonValueKind.Object && r.TryGetProperty("metadata", out var m) ? StringMap(m) : new Dictionary<string, string>();
                ops.Add(new ActorStateOperation(kind, key, value, metadata));
            }
            await state.TransactAsync(actorType, actorId, ops, ct);
            return Results.NoContent();
        });

        actors.MapGet("/state/{key}", async (string actorType, string actorId, string key, HttpContext context, ActorStateApi state, CancellationToken ct) =>
        {
            var result = await state.GetAsync(actorType, actorId, key, ct);
            if (result is null || result.Value.Length == 0)
            {
                return Results.NoContent();
            }
            foreach (var (k, v) in result.Metadata)
            {
                context.Response.Headers[$"metadata.{k}"] = v;
            }
            return Results.Bytes(result.Value, "application/json");
        });

        actors.MapMethods("/reminders/{name}", ["POST", "PUT"], async (string actorType, string actorId, string name, HttpRequest request, ActorReminders reminders, CancellationToken ct) =>
        {
            using var doc = await ParseAsync(request);
            var root = RequireObject(doc);
            await reminders.CreateAsync(actorType, actorId, name,
                new ActorReminderRequest(Str(root, "dueTime"), Str(root, "period"), Str(root, "ttl"), Data(root), Overwrite(root)), ct);
            return Results.NoContent();
        });

        actors.MapGet("/reminders/{name}", async (string actorType, string actorId, string name, ActorReminders reminders, CancellationToken ct) =>
        {
            var reminder = await reminders.GetAsync(actorType, actorId, name, ct) ?? throw DaprErrors.ActorReminderNotFound(name);
            return Results.Text(ReminderJson(reminder.Describe()).ToJsonString(), "application/json", Encoding.UTF8);
        });

        actors.MapDelete("/reminders/{name}", async (string actorType, string actorId, string name, ActorReminders reminders, CancellationToken ct) =>
        {
            await reminders.DeleteAsync(actorType, actorId, name, ct);
            return Results.NoContent();
        });

        actors.MapMethods("/timers/{name}", ["POST", "PUT"], async (string actorType, string actorId, string name, HttpRequest request, ActorRuntime runtime) =>
        {
            using var doc = await ParseAsync(request);
            var root = RequireObject(doc);
            runtime.CreateTimer(actorType, actorId, name,
                new ActorTimerRequest(Str(root, "dueTime"), Str(root, "period"), Str(root, "ttl"), Str(root, "callback"), Data(root)));
            return Results.NoContent();
        });

        actors.MapDelete("/timers/{name}", (string actorType, string actorId, string name, ActorRuntime runtime) =>
        {
            runtime.DeleteTimer(actorType, actorId, name);
            return Results.NoContent();
        });

        // Internal hops between sidecars of the local mesh, authenticated by the receiving sidecar's token.
        app.MapPut(ActorRuntime.MeshPrefix + "{actorType}/{actorId}/method/{**method}", async (string actorType, string actorId, string? method, HttpContext context, ActorRuntime runtime, MeshRegistry mesh) =>
        {
            if (!mesh.IsValidToken(context.Request.Headers[MeshBroker.TokenHeader]))
            {
                context.Response.StatusCode = 403;
                return;
            }
            var call = await ToCallAsync(context, actorType, actorId, method ?? "");
            var response = await runtime.ServeFromMeshAsync(call, context.Request.Headers.ContainsKey(ActorHeaders.Hop), context.RequestAborted);
            await WriteAsync(context, response);
        });

        app.MapPost(ActorRuntime.MeshPrefix + "_reminders/{actorType}/reload", async (string actorType, HttpContext context, ActorReminders reminders, MeshRegistry mesh) =>
        {
            if (!mesh.IsValidToken(context.Request.Headers[MeshBroker.TokenHeader]))
            {
                return Results.StatusCode(403);
            }
            await reminders.ReloadAsync(actorType, context.RequestAborted);
            return Results.NoContent();
        });
    }

    /// <summary>The reminder as daprd's <c>GET .../reminders/{name}</c> answers it (see <see cref="StoredReminder.Describe"/>).</summary>
    public static JsonObject ReminderJson(ReminderDescription r)
    {
        var o = new JsonObject();
        if (r.Period is not null)
        {
            o["period"] = r.Period;
        }
        if (r.Data is not null)
        {
            o["data"] = JsonNode.Parse(r.Data);
        }
        o["actorID"] = r.ActorId;
        o["actorType"] = r.ActorType;
        if (r.DueTime is not null)
        {
            o["dueTime"] = r.DueTime;
        }
        if (r.Ttl is not null)
        {
            o["ttl"] = r.Ttl;
        }
        return o;
    }

    private static async Task<ActorCall> ToCallAsync(HttpContext context, string actorType, string actorId, string method)
    {
        var body = await HttpApi.ReadBodyAsync(context.Request);
        var headers = context.Request.Headers
            .Where(h => !h.Key.StartsWith(':'))
            .Select(h => new KeyValuePair<string, string[]>(h.Key, h.Value.Where(v => v is not null).Select(v => v!).ToArray()))
            .ToList();
        return new ActorCall(actorType, actorId, method, headers, body, context.Request.ContentType);
    }

    private static async Task WriteAsync(HttpContext context, ActorResponse response)
    {
        context.Response.StatusCode = response.StatusCode;
        foreach (var (name, values) in response.Headers)
        {
            context.Response.Headers.Append(name, values);
        }
        if (response.ContentType is not null)
        {
            context.Response.ContentType = response.ContentType;
        }
        if (response.Body.Length > 0)
        {
            await context.Response.Body.WriteAsync(response.Body, context.RequestAborted);
        }
    }

    private static async Task<JsonDocument> ParseAsync(HttpRequest request)
    {
        var body = await HttpApi.ReadBodyAsync(request);
        try
        {
            return JsonDocument.Parse(body.Length == 0 ? "{}"u8.ToArray() : body);
        }
        catch (JsonException ex)
        {
            throw DaprErrors.MalformedRequest($"failed deserializing HTTP body: {ex.Message}");
        }
    }

    private static JsonElement RequireObject(JsonDocument doc) =>
        doc.RootElement.ValueKind == JsonValueKind.Object ? doc.RootElement : throw DaprErrors.MalformedRequest("failed deserializing HTTP body: expected a JSON object");

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool? Overwrite(JsonElement e) => !e.TryGetProperty("overwrite", out var v) ? null : v.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null => null,
        _ => throw DaprErrors.MalformedRequest("failed deserializing HTTP body: overwrite must be a boolean"),
    };

    private static JsonElement? Data(JsonElement e) =>
        e.TryGetProperty("data", out var v) && v.ValueKind is not JsonValueKind.Null and not JsonValueKind.Undefined ? v.Clone() : null;

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
}
