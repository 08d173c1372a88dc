using System.Net.Http.Headers;
using DaprShop.Sidecar.Components.Bindings;
using DaprShop.Sidecar.Resiliency;

namespace DaprShop.Sidecar.Runtime;

/// <summary>Bindings, shared by both APIs: output invocation, and delivery of input-binding events to the app.</summary>
public sealed class BindingsApi(ComponentHost components, AppChannel app, ResiliencyEngine resiliency, Tracing.SidecarMetrics metrics, ILogger<BindingsApi> logger)
{
    public async Task<BindingResponse> InvokeAsync(string name, string operation, byte[] data, IReadOnlyDictionary<string, string> metadata, CancellationToken ct)
    {
        if (!components.OutputBindings.TryGetValue(name, out var binding))
        {
            throw DaprErrors.BindingNotFound(name);
        }
        if (string.IsNullOrEmpty(operation))
        {
            throw DaprErrors.BindingFailed(name, "operation field is missing from request");
        }
        if (!binding.Operations.Contains(operation, StringComparer.Ordinal))
        {
            throw DaprErrors.BindingFailed(name, $"binding {name} does not support operation {operation}. supported operations: {string.Join(" ", binding.Operations)}");
        }
        try
        {
            return await metrics.OutputBindingAsync(name, operation, () => resiliency.ForComponentOutbound(name).ExecuteAsync(
                c => binding.InvokeAsync(new BindingRequest(operation, data, metadata), c), ct,
                isRetriable: ex => ex is not BindingRequestException));
        }
        catch (Exception ex) when (ex is not DaprApiException and not OperationCanceledException)
        {
            throw DaprErrors.BindingFailed(name, ex.Message, ex);
        }
    }

    /// <summary>
    /// Starts every input binding the app listens to. As daprd does, the sidecar first asks the app with
    /// <c>OPTIONS /{route}</c>; any answer but 404 (2xx or 405 in practice) means the app wants the events.
    /// </summary>
    public async Task<IReadOnlyList<string>> StartInputBindingsAsync(CancellationToken stopping)
    {
        var started = new List<string>();
        if (!app.HasApp)
        {
            return started;
        }
        foreach (var (name, binding) in components.InputBindings)
        {
            var loaded = components.Loaded.First(c => c.Resource.Name == name);
            var route = "/" + (loaded.Metadata.TryGetValue("route", out var r) && r.Length > 0 ? r : name).TrimStart('/');
            // As daprd: a binding declared `direction: input` needs no probe; otherwise the app takes it when OPTIONS
            // answers 2xx or 405 (a route that exists for POST only).
            var declaredInput = loaded.Metadata.TryGetValue("direction", out var direction)
                && direction.Split(',', StringSplitOptions.TrimEntries).Contains("input", StringComparer.OrdinalIgnoreCase);
            if (!declaredInput)
            {
                using var probe = new HttpRequestMessage(HttpMethod.Options, route).As(AppCallKind.ListInputBindings);
                probe.Options.Set(AppCalls.Binding, name);
                try
                {
                    using var answer = await app.SendAsync(probe, stopping, HttpCompletionOption.ResponseContentRead);
                    if (!answer.IsSuccessStatusCode && answer.StatusCode != System.Net.HttpStatusCode.MethodNotAllowed)
                    {
                        logger.LogInformation("The app does not listen to input binding {Name} (OPTIONS {Route} answered {Status})", name, route, (int)answer.StatusCode);
                        continue;
                    }
                }
                catch (HttpRequestException ex)
                {
                    logger.LogWarning("Could not ask the app about input binding {Name}: {Error}", name, ex.Message);
                    continue;
                }
            }
            _ = Task.Run(() => binding.ReadAsync((e, c) => DeliverAsync(name, route, e, c), stopping), stopping);
            started.Add(name);
            logger.LogInformation("Input binding {Name} delivers to {Route}", name, route);
        }
        return started;
    }

    private async Task DeliverAsync(string name, string route, BindingEvent e, CancellationToken ct)
    {
        if (!app.IsHealthy)
        {
            throw new InvalidOperationException($"the app is unhealthy: input binding {name} paused");
        }
        await metrics.InputBindingAsync(name, () => resiliency.ForComponentInbound(name).ExecuteAsync(async c =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, route) { Content = new ByteArrayContent(e.Data) }.As(AppCallKind.BindingEvent);
            request.Options.Set(AppCalls.Binding, name);
            request.Content!.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            foreach (var (key, value) in e.Metadata)
            {
                request.Headers.TryAddWithoutValidation(key, value);
            }
            using var response = await app.SendAsync(request, c, HttpCompletionOption.ResponseContentRead);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"the app answered {(int)response.StatusCode} to input binding {name}");
            }
            return true;
        }, ct));
    }
}
