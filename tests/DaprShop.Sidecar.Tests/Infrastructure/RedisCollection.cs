using DaprShop.Testing;

namespace DaprShop.Sidecar.Tests.Infrastructure;

/// <summary>One Redis server shared by the tests of this collection; each test or store takes a logical database of its own.</summary>
[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisServer>
{
    public const string Name = "Redis";
}
