using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DaprShop.Ordering.Activities;

/// <summary>
/// Service invocation (HTTP through the sidecar, <see cref="OrderingExtensions"/> names one client per app id) for the saga's activities. A business answer (2xx, or a refusal the callee explains with a
/// body: 402, 409, 422) is returned; anything else throws, so the activity fails and the workflow's retry policy
/// (and Dapr's resiliency policy before it) deals with it.
/// </summary>
internal static class ServiceCalls
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
    private static readonly HashSet<HttpStatusCode> Refusals = [HttpStatusCode.PaymentRequired, HttpStatusCode.Conflict, HttpStatusCode.UnprocessableEntity];

    public static async Task<TResponse> InvokeAsync<TResponse>(
        IHttpClientFactory http, HttpMethod method, string appId, string path, object? body, string idempotencyKey, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(http, method, appId, path, body, idempotencyKey, cancellationToken);
        if (response.IsSuccessStatusCode || Refusals.Contains(response.StatusCode))
        {
            var answer = await response.Content.ReadFromJsonAsync<TResponse>(Json, cancellationToken);
            if (answer is not null)
            {
                return answer;
            }
        }
        throw Failure(method, appId, path, response);
    }

    /// <summary>For calls whose success has no body; <paramref name="alsoFine"/> lists statuses that mean "already done".</summary>
    public static async Task InvokeAsync(
        IHttpClientFactory http, HttpMethod method, string appId, string path, object? body, string idempotencyKey, params HttpStatusCode[] alsoFine)
    {
        using var response = await SendAsync(http, method, appId, path, body, idempotencyKey, CancellationToken.None);
        if (!response.IsSuccessStatusCode && !alsoFine.Contains(response.StatusCode))
        {
            throw Failure(method, appId, path, response);
        }
    }

    public static Task<HttpResponseMessage> SendAsync(
        IHttpClientFactory http, HttpMethod method, string appId, string path, object? body, string idempotencyKey, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body, body.GetType(), options: Json) };
        request.Headers.Add(IdempotencyKeyHeader, idempotencyKey);
        return http.CreateClient(appId).SendAsync(request, cancellationToken);
    }

    internal static HttpRequestException Failure(HttpMethod method, string appId, string path, HttpResponseMessage response) =>
        new($"{method} {appId}/{path} answered {(int)response.StatusCode}", null, response.StatusCode);
}
