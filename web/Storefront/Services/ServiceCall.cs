using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DaprShop.Storefront.Services;

/// <summary>A service could not answer (unreachable, timed out, or a 5xx): the page says so instead of failing.</summary>
public sealed class ServiceUnavailableException(string service, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The app id of the service that did not answer.</summary>
    public string Service { get; } = service;
}

/// <summary>The outcome of a change a service was asked to make: done (with the answer), or refused with its reasons.</summary>
public sealed record ChangeResult<T>(T? Value, int Status, string? Message, IReadOnlyDictionary<string, string[]> Errors, string? ETag = null) where T : class
{
    public bool Succeeded => Status is >= 200 and < 300;

    public static ChangeResult<T> Done(T value, int status, string? etag = null) => new(value, status, null, new Dictionary<string, string[]>(), etag);
}

/// <summary>
/// HTTP through the storefront's own sidecar (Dapr service invocation): every client's base address is
/// <c>http://{app-id}/</c> and Dapr's <c>InvocationHandler</c> sends it to the sidecar. Transport failures, timeouts
/// and 5xx answers become <see cref="ServiceUnavailableException"/>; 404 is "not there"; other 4xx are refusals.
/// </summary>
internal static class ServiceCall
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public static async Task<HttpResponseMessage> SendAsync(HttpClient http, string service, HttpRequestMessage request, ILogger logger, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            logger.LogWarning(e, "{Service} is unreachable: {Method} {Path}", service, request.Method, request.RequestUri);
            throw new ServiceUnavailableException(service, $"{service} is unreachable", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("{Service} did not answer in time: {Method} {Path}", service, request.Method, request.RequestUri);
            throw new ServiceUnavailableException(service, $"{service} did not answer in time", e);
        }
        if ((int)response.StatusCode >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests)
        {
            logger.LogWarning("{Service} answered {Status}: {Method} {Path}", service, (int)response.StatusCode, request.Method, request.RequestUri);
            response.Dispose();
            throw new ServiceUnavailableException(service, $"{service} answered {(int)response.StatusCode}");
        }
        return response;
    }

    /// <summary>A read: the answer, or null when the service says 404.</summary>
    public static async Task<T?> GetAsync<T>(HttpClient http, string service, string path, ILogger logger, CancellationToken cancellationToken) where T : class
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using var response = await SendAsync(http, service, request, logger, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        if (!response.IsSuccessStatusCode)
        {
            // A read the storefront built is never refused unless the two disagree on the API: as good as down.
            logger.LogWarning("{Service} refused {Path} with {Status}", service, path, (int)response.StatusCode);
            throw new ServiceUnavailableException(service, $"{service} answered {(int)response.StatusCode}");
        }
        return await ReadAsync<T>(response, service, cancellationToken);
    }

    public static async Task<T> GetRequiredAsync<T>(HttpClient http, string service, string path, ILogger logger, CancellationToken cancellationToken) where T : class =>
        await GetAsync<T>(http, service, path, logger, cancellationToken)
        ?? throw new ServiceUnavailableException(service, $"{service} does not know {path}");

    /// <summary>A change: the answer on success, else the service's refusal (status, title/detail and field errors).</summary>
    public static async Task<ChangeResult<T>> ChangeAsync<T>(HttpClient http, string service, HttpRequestMessage request, ILogger logger, CancellationToken cancellationToken) where T : class
    {
        using var response = await SendAsync(http, service, request, logger, cancellationToken);
        var etag = response.Headers.ETag?.ToString();
        if (response.IsSuccessStatusCode)
        {
            var value = response.StatusCode == HttpStatusCode.NoContent || response.Content.Headers.ContentLength == 0
                ? null
                : await ReadAsync<T>(response, service, cancellationToken);
            return new ChangeResult<T>(value, (int)response.StatusCode, null, new Dictionary<string, string[]>(), etag);
        }
        ProblemAnswer? problem = null;
        try
        {
            problem = await response.Content.ReadFromJsonAsync<ProblemAnswer>(Json, cancellationToken);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
        }
        return new ChangeResult<T>(null, (int)response.StatusCode, problem?.Detail ?? problem?.Title, problem?.Errors ?? new Dictionary<string, string[]>(), etag);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, string service, CancellationToken cancellationToken) where T : class
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken)
                ?? throw new ServiceUnavailableException(service, $"{service} answered an empty body");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new ServiceUnavailableException(service, $"{service} answered something unreadable", e);
        }
    }

    public static HttpRequestMessage JsonRequest<T>(HttpMethod method, string path, T body) =>
        new(method, path) { Content = JsonContent.Create(body, options: Json) };
}
