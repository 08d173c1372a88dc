using DaprShop.Contracts;
using DaprShop.Testing;

namespace DaprShop.Gateway.Tests.Integration;

/// <summary>
/// A gateway with nothing behind it: its sidecar's mesh has no other app, the storefront address is a port nobody
/// listens on. It trusts the test (127.0.0.1) as a proxy, so X-Forwarded-For names the client, and allows each
/// client only <see cref="PermitLimit"/> requests a minute.
/// </summary>
public sealed class LoneGateway : IAsyncLifetime
{
    public const int PermitLimit = 3;

    private readonly TestMesh _mesh = new();

    public ServiceProcess Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Gateway = await ServiceProcess.StartAsync(new()
        {
            Project = "Gateway",
            AppId = AppIds.Gateway,
            MeshDirectory = _mesh.Directory,
            Environment = new Dictionary<string, string>
            {
                ["Gateway__StorefrontUrl"] = $"http://127.0.0.1:{Ports.Free()}",
                ["Gateway__TrustedProxies__0"] = "127.0.0.1",
                ["Gateway__RateLimit__PermitLimit"] = PermitLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Gateway__RateLimit__WindowSeconds"] = "60",
            },
        });
    }

    /// <summary>A client that the gateway knows, through its trusted proxy, as <paramref name="clientIp"/>.</summary>
    public HttpClient CreateClient(string clientIp)
    {
        var http = new HttpClient { BaseAddress = Gateway.AppEndpoint, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("X-Forwarded-For", clientIp);
        return http;
    }

    public async Task DisposeAsync()
    {
        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }
        _mesh.Dispose();
    }
}
