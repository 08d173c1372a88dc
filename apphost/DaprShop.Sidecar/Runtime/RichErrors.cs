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
            var details = new JsonArray();
            if (d.Violation is { } v)
            {
                details.Add(new JsonObject
                {
                    ["@type"] = TypePrefix + Google.Rpc.BadRequest.Descriptor.FullName,
                    ["field_violations"] = new JsonArray(new JsonObject { ["field"] = v.Field, ["description"] = v.Description }),
                });
            }
            if (d.Help is { } h)
            {
                details.Add(new JsonObject
                {
                    ["@type"] = TypePrefix + Google.Rpc.Help.Descriptor.FullName,
                    ["links"] = new JsonArray(new JsonObject { ["description"] = h.Description, ["url"] = h.Url }),
                });
            }
            if (d.Resource is { } r)
            {
                details.Add(new JsonObject
                {
                    ["@type"] = TypePrefix + Google.Rpc.ResourceInfo.Descriptor.FullName,
                    ["description"] = r.Description,
                    ["owner"] = r.Owner,
                    ["resource_name"] = r.Name,
                    ["resource_type"] = r.Type,
                });
            }
            JsonObject? metadata = null;
            if (d.Metadata is not null)
            {
                metadata = new JsonObject();
                foreach (var (key, value) in d.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal))
                {
                    metadata[key] = value;
                }
            }
            details.Add(new JsonObject
            {
                ["@type"] = TypePrefix + Google.Rpc.ErrorInfo.Descriptor.FullName,
                ["domain"] = Domain,
                ["metadata"] = metadata,
                ["reason"] = d.Reason,
            });
            body["details"] = details;
        }
        return body;
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
