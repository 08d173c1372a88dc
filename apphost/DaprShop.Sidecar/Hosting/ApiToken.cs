using System.Security.Cryptography;
using System.Text;
using DaprShop.Sidecar.Http;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace DaprShop.Sidecar.Hosting;

/// <summary>
/// <c>DAPR_API_TOKEN</c>: with it set, every API call must carry the same <c>dapr-api-token</c>. As in daprd the
/// health endpoints are exempt, HTTP refusals are a plain-text 401, gRPC ones Unauthenticated; the token is removed
/// before a request travels on. The local mesh's internal routes carry their own token instead.
/// </summary>
public static class ApiToken
{
    public const string Header = "dapr-api-token";

    public static bool Matches(string expected, string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(presented));

    public static IApplicationBuilder UseDaprApiToken(this IApplicationBuilder app, SidecarOptions options)
    {
        if (options.ApiToken is not { } token)
        {
            return app;
        }
        return app.Use(async (context, next) =>
        {
            var path = context.Request.Path;
            var exempt = (HttpMethods.IsGet(context.Request.Method) && (path.Equals("/v1.0/healthz") || path.Equals("/v1.0/healthz/outbound")))
                || HttpApi.IsInternalPath(path)
                || context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true; // checked by the interceptor
            if (!exempt)
            {
                if (!Matches(token, context.Request.Headers[Header]))
                {
                    context.Response.StatusCode = 401;
                    context.Response.ContentType = "text/plain; charset=utf-8";
                    await context.Response.WriteAsync("invalid api token\n");
                    return;
                }
                context.Request.Headers.Remove(Header);
            }
            await next(context);
        });
    }
}

/// <summary>The gRPC side of <see cref="ApiToken"/>.</summary>
public sealed class ApiTokenInterceptor(SidecarOptions options) : CheckingInterceptor
{
    protected override void Check(ServerCallContext context)
    {
        if (options.ApiToken is not { } token)
        {
            return;
        }
        var presented = context.RequestHeaders.GetValue(ApiToken.Header);
        if (presented is null)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "missing api token in request metadata"));
        }
        if (!ApiToken.Matches(token, presented))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "authentication error: api token mismatch"));
        }
    }
}

/// <summary>An interceptor that checks every call of any kind before it runs, refusing it by throwing.</summary>
public abstract class CheckingInterceptor : Interceptor
{
    protected abstract void Check(ServerCallContext context);

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(request, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Check(context);
        return continuation(requestStream, responseStream, context);
    }
}
