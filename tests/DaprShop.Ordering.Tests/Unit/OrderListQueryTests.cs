using DaprShop.Contracts;
using DaprShop.Ordering.Orders;
using FluentAssertions;

namespace DaprShop.Ordering.Tests.Unit;

public sealed class OrderListQueryTests
{
    [Fact]
    public void An_empty_query_lists_every_status_on_the_first_page_of_the_last_thirty_days()
    {
        OrdersApi.ParseListQuery(null, null, null, null, out var query).Should().BeEmpty();

        query.Should().Be(new OrderListQuery(null, 1, OrderListQuery.DefaultPageSize, OrderListQuery.DefaultDays));
    }

    [Fact]
    public void A_status_is_read_by_its_name_whatever_its_case()
    {
        OrdersApi.ParseListQuery("awaitingPaymentConfirmation", "2", "5", "7", out var query).Should().BeEmpty();

        query.Should().Be(new OrderListQuery(OrderStatus.AwaitingPaymentConfirmation, 2, 5, 7));
    }

    [Theory]
    [InlineData("Lost", null, null, null, "status")]
    [InlineData("3", null, null, null, "status")]
    [InlineData(null, "0", null, null, "page")]
    [InlineData(null, "x", null, null, "page")]
    [InlineData(null, null, "101", null, "pageSize")]
    [InlineData(null, null, null, "367", "days")]
    [InlineData(null, null, null, "-1", "days")]
    public void A_bad_value_is_named_by_its_field(string? status, string? page, string? pageSize, string? days, string field)
    {
        var errors = OrdersApi.ParseListQuery(status, page, pageSize, days, out var query);

        errors.Keys.Should().Equal(field);
        query.Should().BeNull();
    }

    [Fact]
    public void A_day_index_shard_is_named_by_the_utc_date_of_submission_and_always_the_same_for_an_order()
    {
        var submitted = new DateTimeOffset(2025, 3, 1, 0, 30, 0, TimeSpan.FromHours(2));

        var key = OrderReadModel.DayKey(submitted, "order-42");

        key.Should().MatchRegex("^orders-by-day:2025-02-28:[0-9]{2}$");
        OrderReadModel.DayKey(submitted, "order-42").Should().Be(key);
        OrderReadModel.DayKeys(new DateOnly(2025, 2, 28)).Should().Contain(key).And.HaveCount(OrderReadModel.DayShards);
    }

    [Fact]
    public void A_days_orders_spread_over_every_shard()
    {
        var shards = Enumerable.Range(0, 1000).Select(i => OrderReadModel.Shard(Guid.NewGuid().ToString())).ToList();

        shards.Distinct().Should().HaveCount(OrderReadModel.DayShards);
        shards.GroupBy(s => s).Should().OnlyContain(g => g.Count() > 1000 / OrderReadModel.DayShards / 3, "no shard is starved or hot");
    }
}
