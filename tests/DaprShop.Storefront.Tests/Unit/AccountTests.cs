using System.Text.Json;
using DaprShop.Storefront.Accounts;
using DaprShop.Testing;
using FluentAssertions;
using Microsoft.Extensions.Options;

namespace DaprShop.Storefront.Tests.Unit;

public sealed class AccountTests
{
    [Fact]
    public void A_password_is_checked_against_its_hash_and_nothing_else_passes()
    {
        var hash = PasswordHash.Create("correct horse", iterations: 1_000);

        PasswordHash.Verify("correct horse", hash).Should().BeTrue();
        PasswordHash.Verify("correct horse ", hash).Should().BeFalse();
        PasswordHash.Verify("correct horse", "correct horse").Should().BeFalse("a plain password in settings is not a hash");
        PasswordHash.Create("correct horse", iterations: 1_000).Should().NotBe(hash, "every hash has its own salt");
    }

    [Fact]
    public void The_shipped_demo_accounts_sign_in_with_the_documented_demo_passwords()
    {
        var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repo.Root, "web", "Storefront", "appsettings.json")));
        var accounts = settings.RootElement.GetProperty("Storefront").GetProperty("Accounts").Deserialize<List<DemoAccount>>()!;
        var directory = new AccountDirectory(Options.Create(new StorefrontOptions { Accounts = accounts }));

        directory.SignIn("ada@daprshop.test", "ada-demo-password")!.ShopperId.Should().Be("ada");
        directory.SignIn("GRACE@daprshop.test ", "grace-demo-password")!.ShopperId.Should().Be("grace");
        directory.SignIn("alan@daprshop.test", "alan-demo-password")!.BackOffice.Should().BeFalse();
        directory.SignIn("backoffice@daprshop.test", "backoffice-demo-password")!.BackOffice.Should().BeTrue();
        directory.SignIn("ada@daprshop.test", "grace-demo-password").Should().BeNull();
        directory.SignIn("nobody@daprshop.test", "ada-demo-password").Should().BeNull();
        new StorefrontOptionsValidator().Validate(null, new StorefrontOptions { Accounts = accounts }).Succeeded.Should().BeTrue();
    }

    [Fact]
    public void Accounts_that_would_clash_or_cannot_sign_in_are_refused_at_start()
    {
        DemoAccount Account(string email, string shopperId, string hash) => new() { Email = email, DisplayName = "X", ShopperId = shopperId, PasswordHash = hash };
        var hash = PasswordHash.Create("x", iterations: 1_000);
        var options = new StorefrontOptions
        {
            Culture = "xx-NOWHERE",
            Accounts = [Account("a@x.test", "a", hash), Account("A@x.test", "a", hash), Account("b@x.test", "anon-b", "plain"), Account("c@x.test", "has.dot", hash)],
        };

        var result = new StorefrontOptionsValidator().Validate(null, options);

        result.Failed.Should().BeTrue();
        result.FailureMessage.Should().Contain("Culture").And.Contain("used twice").And.Contain("PasswordHash").And.Contain("anon-").And.Contain("Accounts:3");
    }

    [Fact]
    public void Anonymous_shopper_ids_fit_what_basket_and_ordering_accept()
    {
        var id = ShopperIdentity.NewAnonymousId();

        ShopperIdentity.IsAnonymousId(id).Should().BeTrue();
        id.Should().MatchRegex("^[A-Za-z0-9_-]{1,64}$");
        ShopperIdentity.IsAnonymousId("anon-../../x").Should().BeFalse();
        ShopperIdentity.IsAnonymousId("ada").Should().BeFalse();
    }
}
