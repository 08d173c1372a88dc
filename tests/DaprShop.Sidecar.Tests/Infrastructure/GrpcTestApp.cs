using DaprShop.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DaprShop.Sidecar.Tests.Infrastructure;

/// <summary>A gRPC app on h2c, as the Dapr SDKs' gRPC servers listen, serving the AppCallback services it maps.</summary>
public static class GrpcTestApp
{
    public static async Task<(WebApplication App, int Port)> StartAsync(Action<IServiceCollection> services, Action<WebApplication> map)
    {
        var port = Ports.Free();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.ListenLocalhost(port, l => l.Protocols = HttpProtocols.Http2));
        builder.Logging.ClearProviders();
        builder.Services.AddGrpc();
        services(builder.Services);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return (app, port);
    }
}
