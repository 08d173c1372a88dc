using DaprShop.Testing;

namespace DaprShop.Sidecar.Tests.Infrastructure;

/// <summary>One PostgreSQL server shared by the tests of this collection.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "PostgreSQL";
}
