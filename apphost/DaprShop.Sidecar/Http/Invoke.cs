using DaprShop.Sidecar.Runtime;

namespace DaprShop.Sidecar.Http;

/// <summary>HTTP service invocation: request in, the target app's response out, streamed, headers and status intact.</summary>
internal static class Invoke
{
    public const string AppIdHeader = "dapr-app-id";

    public static async Task ProxyAsync(HttpContext context, InvocationApi invocation, string appId, string method)
    {
        using var request = ToRequest(context, method);
        using var response = await invocation.InvokeAsync(appId, request, context.RequestAborted);
        await CopyResponseAsync(context, response);
    }

    public static async Task ServeFromMeshAsync(HttpContext context, InvocationApi invocation, string method)
    {
        var caller = context.Request.Headers[InvocationApi.CallerHeader].ToString();
        using var request = ToRequest(context, method);
        request.Headers.TryAddWithoutValidation(InvocationApi.CallerHeader, caller);
        request.Headers.TryAddWithoutValidation(InvocationApi.CalleeHeader, context.Request.Headers[InvocationApi.CalleeHeader].ToString());
        using var response = await invocation.CallOwnAppAsync(caller, request, context.RequestAborted);
        await CopyResponseAsync(context, response);
    }

    /// <summary>The <c>dapr-app-id</c> header form: any path on the HTTP port, sent to that app as the method.</summary>
    public static async Task<bool> TryHeaderFormAsync(HttpContext context, InvocationApi invocation)
    {
        var appId = context.Request.Headers[AppIdHeader].ToString();
        if (appId.Length == 0)
        {
            return false;
        }
        await ProxyAsync(context, invocation, appId, context.Request.Path.Value?.TrimStart('/') ?? "");
        return true;
    }

    private static HttpRequestMessage ToRequest(HttpContext context, string method)
    {
        var http = context.Request;
        var target = "/" + method.TrimStart('/') + http.QueryString.ToUriComponent();
        var request = new HttpRequestMessage(new HttpMethod(http.Method), new Uri(target, UriKind.Relative));
        var hasBody = http.ContentLength > 0 || http.Headers.TransferEncoding.Count > 0;
        if (hasBody)
        {
            request.Content = new StreamContent(http.Body);
        }
        foreach (var (name, values) in http.Headers)
        {
            if (InvocationApi.IsHopByHop(name))
            {
                continue;
            }
            if (name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
            {
                if (hasBody && !name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    request.Content!.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values!);
                }
                continue;
            }
            request.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values!);
        }
        var remote = context.Connection.RemoteIpAddress?.ToString();
        if (remote is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", remote);
            request.Headers.TryAddWithoutValidation("Forwarded", $"for={remote};by={context.Connection.LocalIpAddress};host={http.Host}");
        }
        request.Headers.TryAddWithoutValidation("X-Forwarded-Host", http.Host.ToString());
        return request;
    }

    private static async Task CopyResponseAsync(HttpContext context, HttpResponseMessage response)
    {
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers)
        {
            if (!InvocationApi.IsHopByHop(name))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }
        foreach (var (name, values) in response.Content.Headers)
        {
            context.Response.Headers[name] = values.ToArray();
        }
        HttpApi.DisableBuffering(context);
        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }
}
