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
    public void A_day_index_is_named_by_the_utc_date_of_submission()
    {
        OrderReadModel.DayKey(new DateTimeOffset(2025, 3, 1, 0, 30, 0, TimeSpan.FromHours(2))).Should().Be("orders-by-day:2025-02-28");
    }
}
