using DaprShop.Sidecar.Runtime;

namespace DaprShop.Sidecar.Http;

/// <summary>HTTP service invocation: request in, the target app's response out, streamed, headers and status intact.</summary>
internal static class Invoke
{
    public const string AppIdHeader = "dapr-app-id";

    public static async Task ProxyAsync(HttpContext context, InvocationApi invocation, string appId, string method)
    {
        using var request = ToRequest(context, appId, method);
        using var response = await invocation.InvokeAsync(appId, request, context.RequestAborted);
        await CopyResponseAsync(context, response);
    }

    public static async Task ServeFromMeshAsync(HttpContext context, InvocationApi invocation, string method)
    {
        var caller = context.Request.Headers[InvocationApi.CallerHeader].ToString();
        using var request = ToRequest(context, context.Request.Headers[InvocationApi.CalleeHeader].ToString(), method);
        request.Headers.TryAddWithoutValidation(InvocationApi.CallerHeader, caller);
        request.Headers.TryAddWithoutValidation(InvocationApi.CalleeHeader, context.Request.Headers[InvocationApi.CalleeHeader].ToString());
        using var response = await invocation.CallOwnAppAsync(caller, request, context.RequestAborted);
        await CopyResponseAsync(context, response);
    }

    /// <summary>
    /// The app id given outside the path, as daprd reads it: the <c>dapr-app-id</c> header, else HTTP Basic
    /// credentials whose user is <c>dapr-app-id</c> and whose password is the app id.
    /// </summary>
    public static string? AppIdOutsidePath(HttpRequest request)
    {
        if (request.Headers[AppIdHeader].ToString() is { Length: > 0 } header)
        {
            return header;
        }
        var auth = request.Headers.Authorization.ToString();
        if (auth.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var credentials = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(auth[6..].Trim()));
                if (credentials.StartsWith(AppIdHeader + ":", StringComparison.Ordinal) && credentials.Length > AppIdHeader.Length + 1)
                {
                    return credentials[(AppIdHeader.Length + 1)..];
                }
            }
            catch (FormatException)
            {
                // not Dapr's form: no app id here
            }
        }
        return null;
    }

    /// <summary>The <c>dapr-app-id</c> header (or Basic) form: the whole path is the method, even under <c>/v1.0/invoke/</c>.</summary>
    public static async Task<bool> TryHeaderFormAsync(HttpContext context, InvocationApi invocation)
    {
        if (AppIdOutsidePath(context.Request) is not { } appId)
        {
            return false;
        }
        await ProxyAsync(context, invocation, appId, context.Request.Path.Value?.TrimStart('/') ?? "");
        return true;
    }

    private static HttpRequestMessage ToRequest(HttpContext context, string appId, string method)
    {
        var http = context.Request;
        var target = "/" + InvocationApi.NormalizeMethod(appId, method) + http.QueryString.ToUriComponent();
        var request = new HttpRequestMessage(new HttpMethod(http.Method), new Uri(target, UriKind.Relative));
        var hasBody = http.ContentLength > 0 || http.Headers.TransferEncoding.Count > 0;
        if (hasBody)
        {
            // The length goes on with the body, so the app does not get it chunked.
            request.Content = new StreamContent(http.Body);
            request.Content.Headers.ContentLength = http.ContentLength;
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
        return request;
    }

    private static async Task CopyResponseAsync(HttpContext context, HttpResponseMessage response)
    {
        context.Response.StatusCode = (int)response.StatusCode;
        // The values as the app wrote them (parsed headers such as Server would come back split into tokens).
        foreach (var (name, values) in response.Headers.NonValidated)
        {
            if (!InvocationApi.IsHopByHop(name))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }
        foreach (var (name, values) in response.Content.Headers.NonValidated)
        {
            context.Response.Headers[name] = values.ToArray();
        }
        HttpApi.DisableBuffering(context);
        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }
}
