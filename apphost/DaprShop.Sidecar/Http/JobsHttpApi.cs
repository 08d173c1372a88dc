using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapr.Client.Autogen.Grpc.v1;
using DaprShop.Sidecar.Runtime;
using DaprShop.Sidecar.Runtime.Jobs;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;

namespace DaprShop.Sidecar.Http;

/// <summary>
/// Dapr's HTTP jobs API, stable (<c>/v1.0/jobs/{name}</c>) and alpha (<c>/v1.0-alpha1/jobs/{name}</c>): POST
/// schedules (204), GET answers the job as protobuf JSON, DELETE removes it (204). The body is read as daprd reads
/// it, with protobuf's JSON rules (JSON or proto field names, unknown fields ignored); <c>data</c> is any JSON value,
/// kept as a <c>google.protobuf.Value</c>. Listing and deleting by prefix are gRPC only, as in daprd.
/// </summary>
public static class JobsHttpApi
{
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithTypeRegistry(TypeRegistry.FromFiles(
        StructReflection.Descriptor, WrappersReflection.Descriptor, DurationReflection.Descriptor, TimestampReflection.Descriptor, EmptyReflection.Descriptor)));

    public static void MapJobsApi(this IEndpointRouteBuilder app)
    {
        foreach (var version in new[] { "v1.0-alpha1", "v1.0" })
        {
            var jobs = app.MapGroup($"/{version}/jobs");
            jobs.MapPost("/{name}", async (string name, HttpRequest request, JobsApi api) =>
            {
                var (job, overwrite) = Read(await HttpApi.ReadBodyAsync(request), api);
                job.Name = name.Trim();
                api.Schedule(job, overwrite);
                return Results.NoContent();
            });
            jobs.MapGet("/{name}", (string name, JobsApi api) => Results.Text(Format(api.Get(name)), "application/json", Encoding.UTF8));
            jobs.MapDelete("/{name}", (string name, JobsApi api) =>
            {
                api.Delete(name);
                return Results.NoContent();
            });
        }
    }

    /// <summary>The body as daprd's <c>JobHTTPRequest</c>: the job's fields, <c>data</c> as a JSON value and <c>overwrite</c>.</summary>
    private static (Job Job, bool Overwrite) Read(byte[] body, JobsApi api)
    {
        try
        {
            var root = body.Length == 0 ? new JsonObject() : JsonNode.Parse(body) as JsonObject
                ?? throw new FormatException("the body is not a JSON object");
            var data = root["data"];
            var hasData = root.Remove("data");
            var overwrite = root["overwrite"] switch
            {
                null => false,
                JsonValue v when v.TryGetValue<bool>(out var b) => b,
                _ => throw new FormatException("overwrite must be true or false"),
            };
            root.Remove("overwrite");
            var job = Parser.Parse<Job>(root.ToJsonString());
            if (job.Name.Length > 0)
            {
                throw DaprErrors.JobNameInBody(api.AppId, api.Namespace);
            }
            if (hasData)
            {
                job.Data = Any.Pack(Parser.Parse<Value>(data?.ToJsonString() ?? "null"));
            }
            return (job, overwrite);
        }
        catch (Exception ex) when (ex is JsonException or InvalidJsonException or InvalidProtocolBufferException or FormatException)
        {
            throw DaprErrors.MalformedRequest($"failed deserializing HTTP body: {ex.Message}");
        }
    }

    /// <summary>A job as protobuf JSON; data of a type this sidecar does not know is shown as its type and base64 bytes.</summary>
    private static string Format(Job job)
    {
        try
        {
            return Formatter.Format(job);
        }
        catch (InvalidOperationException)
        {
            var withoutData = job.Clone();
            withoutData.Data = null;
            var json = JsonNode.Parse(Formatter.Format(withoutData))!.AsObject();
            json["data"] = new JsonObject { ["@type"] = job.Data.TypeUrl, ["value"] = job.Data.Value.ToBase64() };
            return json.ToJsonString();
        }
    }
}
