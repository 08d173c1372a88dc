namespace DaprShop.AppHost.Tests;

/// <summary>One running shop shared by the AppHost and browser tests: starting it takes the better part of a minute.</summary>
public sealed class RunningShop : IAsyncLifetime
{
    private ShopHost? _host;

    public ShopHost Host => _host ?? throw new InvalidOperationException("the shop did not start");

    public async Task InitializeAsync() => _host = await ShopHost.StartAsync();

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ShopCollection : ICollectionFixture<RunningShop>
{
    public const string Name = "running shop";
}
