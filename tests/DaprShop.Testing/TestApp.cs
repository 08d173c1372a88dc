using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DaprShop.Testing;

/// <summary>A request the test app received, with what a test wants to assert on.</summary>
public sealed record ReceivedRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, byte[] Body, string? ContentType)
{
    public string BodyText => System.Text.Encoding.UTF8.GetString(Body);
}

/// <summary>
/// An app on a real Kestrel port for a sidecar to call: the test maps its endpoints (with Dapr.AspNetCore where it
/// wants the SDK's behaviour) and every request is recorded.
/// </summary>
public sealed class TestApp : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestApp(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }
    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    public static async Task<TestApp> StartAsync(Action<WebApplication> map, Action<IServiceCollection>? services = null, int? port = null)
    {
        port ??= Ports.Free();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        builder.Services.AddRouting();
        services?.Invoke(builder.Services);
        var app = builder.Build();
        var testApp = new TestApp(app, port.Value);
        app.Use(async (context, next) =>
        {
            context.Request.EnableBuffering();
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            context.Request.Body.Position = 0;
            testApp.Requests.Enqueue(new ReceivedRequest(
                context.Request.Method,
                context.Request.Path.Value ?? "",
                context.Request.QueryString.Value ?? "",
                context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()),
                buffer.ToArray(),
                context.Request.ContentType));
            await next(context);
        });
        map(app);
        await app.StartAsync();
        return testApp;
    }

    public IEnumerable<ReceivedRequest> RequestsTo(string path) => Requests.Where(r => r.Path == path);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
