using DaprShop.Storefront.Shopping;
using FluentAssertions;

namespace DaprShop.Storefront.Tests.Unit;

public sealed class NoticesTests
{
    [Theory]
    [InlineData("/catalog?q=lamp&page=2", "/catalog?q=lamp&page=2&notice=added")]
    [InlineData("/products/p-1?notice=removed", "/products/p-1?notice=added")]
    [InlineData("/basket#lines", "/basket?notice=added")]
    [InlineData("/", "/?notice=added")]
    public void A_notice_is_added_to_the_page_to_return_to_replacing_an_earlier_one(string returnUrl, string expected)
    {
        Notices.Redirect(returnUrl, "added").Should().Be(expected);
    }

    [Theory]
    [InlineData("https://evil.example/")]
    [InlineData("//evil.example/")]
    [InlineData("/\\evil.example/")]
    [InlineData("javascript:alert(1)")]
    [InlineData("")]
    [InlineData(null)]
    public void Only_pages_of_this_site_are_returned_to(string? returnUrl)
    {
        Notices.LocalOrHome(returnUrl).Should().Be("/");
    }

    [Fact]
    public void Only_known_codes_have_a_text()
    {
        Notices.Find("added")!.Value.Problem.Should().BeFalse();
        Notices.Find("basket-unavailable")!.Value.Problem.Should().BeTrue();
        Notices.Find("<script>").Should().BeNull();
    }
}
