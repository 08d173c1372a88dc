using Microsoft.AspNetCore.Mvc;

namespace DaprShop.Gateway.Proxy;

/// <summary>The gateway's own error answers: RFC 7807 problem details, whatever the upstream left in the response.</summary>
internal static class Problems
{
    public static async Task WriteAsync(HttpContext context, int status, string detail, Action<IHeaderDictionary>? headers = null)
    {
        var response = context.Response;
        // Headers copied from a failed or replaced upstream answer (Content-Length, Content-Type...) no longer apply.
        response.Headers.Clear();
        response.StatusCode = status;
        headers?.Invoke(response.Headers);
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = status, Detail = detail },
        });
    }
}
