using System.Text.Json.Nodes;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace DaprShop.Sidecar.Runtime;

/// <summary>
/// Renders a <see cref="DaprApiException"/> as daprd does, for both APIs from the one exception: over gRPC its status
/// with the details in <c>grpc-status-details-bin</c> (a <c>google.rpc.Status</c>), over HTTP
/// <c>{errorCode, message, details}</c> with each detail as dapr/kit writes it (<c>@type</c> and snake_case keys in
/// alphabetical order; an ErrorInfo without metadata has <c>"metadata": null</c>).
/// </summary>
public static class RichErrors
{
    private const string Domain = "dapr.io";
    private const string TypePrefix = "type.googleapis.com/";

    public static RpcException ToRpcException(DaprApiException ex)
    {
        var status = new Status(ex.GrpcStatus, ex.Message);
        if (ex.Details is null)
        {
            return new RpcException(status);
        }
        var rich = new Google.Rpc.Status { Code = (int)ex.GrpcStatus, Message = ex.Message };
        rich.Details.Add(Messages(ex.Details).Select(Any.Pack));
        return new RpcException(status, new Metadata { { "grpc-status-details-bin", Google.Protobuf.MessageExtensions.ToByteArray(rich) } });
    }

    public static JsonObject ToJson(DaprApiException ex)
    {
        var body = new JsonObject { ["errorCode"] = ex.ErrorCode, ["message"] = ex.Message };
        if (ex.Details is { } d)
        {
            // The same messages, in the same order, as gRPC carries them; only the rendering differs.
            body["details"] = new JsonArray([.. Messages(d).Select(m => Json(m, d))]);
        }
        return body;
    }

    /// <summary>One detail as dapr/kit writes it over HTTP: <c>@type</c>, then the fields' snake_case names in alphabetical order.</summary>
    private static JsonObject Json(Google.Protobuf.IMessage detail, ErrorDetails details)
    {
        var o = new JsonObject { ["@type"] = TypePrefix + detail.Descriptor.FullName };
        switch (detail)
        {
            case Google.Rpc.BadRequest bad:
                o["field_violations"] = new JsonArray([.. bad.FieldViolations.Select(v => (JsonNode)new JsonObject { ["field"] = v.Field, ["description"] = v.Description })]);
                break;
            case Google.Rpc.Help help:
                o["links"] = new JsonArray([.. help.Links.Select(l => (JsonNode)new JsonObject { ["description"] = l.Description, ["url"] = l.Url })]);
                break;
            case Google.Rpc.ResourceInfo r:
                o["description"] = r.Description;
                o["owner"] = r.Owner;
                o["resource_name"] = r.ResourceName;
                o["resource_type"] = r.ResourceType;
                break;
            case Google.Rpc.ErrorInfo info:
                o["domain"] = info.Domain;
                // dapr/kit writes a nil metadata map as null and an empty one as {}, which the proto cannot tell apart.
                o["metadata"] = details.Metadata is null ? null
                    : new JsonObject([.. info.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => KeyValuePair.Create(m.Key, (JsonNode?)m.Value))]);
                o["reason"] = info.Reason;
                break;
        }
        return o;
    }

    /// <summary>The detail messages in dapr/kit's order: field violation, help link, resource, then the ErrorInfo.</summary>
    private static IEnumerable<Google.Protobuf.IMessage> Messages(ErrorDetails d)
    {
        if (d.Violation is { } v)
        {
            yield return new Google.Rpc.BadRequest { FieldViolations = { new Google.Rpc.BadRequest.Types.FieldViolation { Field = v.Field, Description = v.Description } } };
        }
        if (d.Help is { } h)
        {
            yield return new Google.Rpc.Help { Links = { new Google.Rpc.Help.Types.Link { Url = h.Url, Description = h.Description } } };
        }
        if (d.Resource is { } r)
        {
            yield return new Google.Rpc.ResourceInfo { ResourceType = r.Type, ResourceName = r.Name, Owner = r.Owner, Description = r.Description };
        }
        var info = new Google.Rpc.ErrorInfo { Reason = d.Reason, Domain = Domain };
        foreach (var (key, value) in d.Metadata ?? new Dictionary<string, string>())
        {
            info.Metadata[key] = value;
        }
        yield return info;
    }
}
