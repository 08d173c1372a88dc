using DaprShop.Testing;

namespace DaprShop.Shop.Tests;

/// <summary>
/// One shop for every test here: starting thirteen processes is most of the run's time on two cores. The tests run
/// one after another (no parallel collections) and each buys its own products, so none sees another's stock; the one
/// that crashes ordering restarts it before it ends.
/// </summary>
[CollectionDefinition(Name)]
public sealed class WholeShopCollection : ICollectionFixture<WholeShop>
{
    public const string Name = "whole shop";
}
