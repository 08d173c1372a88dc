using System.Text;
using DaprShop.Sidecar.Workflows;
using Google.Protobuf;

namespace DaprShop.Sidecar.Http;

/// <summary>
/// Dapr's HTTP workflow API under <c>v1.0-alpha1</c>, <c>v1.0-beta1</c> and <c>v1.0</c>: start (the raw body is the
/// input, <c>?instanceID=</c> the id; 202 <c>{"instanceID"}</c>), get (the instance as protobuf JSON), raise an
/// event, terminate, pause, resume, purge (202). Handlers only translate; <see cref="DaprWorkflowApi"/> decides.
/// </summary>
public static class WorkflowHttpApi
{
    private static readonly IReadOnlyDictionary<string, string> NoOptions = new Dictionary<string, string>();

    public static void MapWorkflowApi(this IEndpointRouteBuilder app)
    {
        foreach (var version in new[] { "v1.0-alpha1", "v1.0-beta1", "v1.0" })
        {
            var workflows = app.MapGroup($"/{version}/workflows/{{component}}");
            workflows.MapPost("/{name}/start", async (string name, string? instanceID, HttpRequest request, DaprWorkflowApi api, CancellationToken ct) =>
            {
                var id = await api.StartAsync(name, instanceID, await BodyText(request), NoOptions, ct);
                return Results.Json(new { instanceID = id }, statusCode: StatusCodes.Status202Accepted);
            });
            workflows.MapGet("/{instanceId}", async (string instanceId, DaprWorkflowApi api, CancellationToken ct) =>
            {
                var found = await api.GetAsync(instanceId, ct) ?? throw DaprWorkflowApi.NotFound(instanceId);
                return Results.Text(JsonFormatter.Default.Format(found), "application/json", Encoding.UTF8);
            });
            workflows.MapPost("/{instanceId}/raiseEvent/{eventName}", async (string instanceId, string eventName, HttpRequest request, DaprWorkflowApi api, CancellationToken ct) =>
                await Accepted(api.RaiseEventAsync(instanceId, eventName, await BodyText(request), ct)));
            workflows.MapPost("/{instanceId}/terminate", (string instanceId, DaprWorkflowApi api, CancellationToken ct) => Accepted(api.TerminateAsync(instanceId, ct)));
            workflows.MapPost("/{instanceId}/pause", (string instanceId, DaprWorkflowApi api, CancellationToken ct) => Accepted(api.PauseAsync(instanceId, ct)));
            workflows.MapPost("/{instanceId}/resume", (string instanceId, DaprWorkflowApi api, CancellationToken ct) => Accepted(api.ResumeAsync(instanceId, ct)));
            workflows.MapPost("/{instanceId}/purge", (string instanceId, DaprWorkflowApi api, CancellationToken ct) => Accepted(api.PurgeAsync(instanceId, ct)));
        }
    }

    // daprd hands the body over as it came: no JSON parsing, no content type; an empty body is the empty string.
    private static async Task<string> BodyText(HttpRequest request) => Encoding.UTF8.GetString(await HttpApi.ReadBodyAsync(request));

    private static async Task<IResult> Accepted(Task action)
    {
        await action;
        return Results.StatusCode(StatusCodes.Status202Accepted);
    }
}
