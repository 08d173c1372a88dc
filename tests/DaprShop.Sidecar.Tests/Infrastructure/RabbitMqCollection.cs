using DaprShop.Testing;

namespace DaprShop.Sidecar.Tests.Infrastructure;

/// <summary>One RabbitMQ node shared by the tests of this collection; each test takes a virtual host of its own.</summary>
[CollectionDefinition(Name)]
public sealed class RabbitMqCollection : ICollectionFixture<RabbitMqServer>
{
    public const string Name = "RabbitMQ";
}
