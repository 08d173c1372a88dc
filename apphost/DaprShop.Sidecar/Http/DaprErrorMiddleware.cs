using DaprShop.Sidecar.Runtime;

namespace DaprShop.Sidecar.Http;

/// <summary>Writes the core's <see cref="DaprApiException"/> as daprd's JSON error body with its HTTP status.</summary>
public static class DaprErrorMiddleware
{
    public static IApplicationBuilder UseDaprErrors(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        try
        {
            await next(context);
        }
        catch (DaprApiException ex) when (!context.Response.HasStarted)
        {
            if (HttpApi.IsInternalPath(context.Request.Path))
            {
                // Lets the calling sidecar tell the host sidecar's own errors from the app's answers.
                context.Response.Headers["dapr-error-code"] = ex.ErrorCode;
            }
            await HttpApi.Error(ex).ExecuteAsync(context);
        }
        catch (BadHttpRequestException ex) when (!context.Response.HasStarted)
        {
            await HttpApi.Error(new DaprApiException(ex.StatusCode, global::Grpc.Core.StatusCode.InvalidArgument, "ERR_BODY_READ", ex.Message)).ExecuteAsync(context);
        }
    });
}
