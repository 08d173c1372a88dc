using System.Globalization;
using System.Net.Http.Json;
using DaprShop.Contracts;
using DaprShop.MailSink;
using FluentAssertions;
using MimeKit;

namespace DaprShop.Notifications.Tests.Integration;

/// <summary>
/// The notifications service as a profile that sends real mail runs it: the <c>outbox</c> binding is
/// <c>bindings.smtp</c> (logging in) against an SMTP server on loopback, and <c>Notifications__Payload=Body</c>.
/// </summary>
public sealed class SmtpNotificationsTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();
    private readonly ResourcesFolder _resources = new();
    private readonly DirectoryInfo _mail = Directory.CreateTempSubdirectory("daprshop-mail-");
    private MailSinkServer _sink = null!;
    private ServiceProcess _notifications = null!;
    private SidecarProcess _ordering = null!;

    public async Task InitializeAsync()
    {
        _sink = MailSinkServer.Start(Ports.Free(), _mail.FullName);
        _resources
            .WithComponent(Components.StateStore, "state.sqlite", ("connectionString", Path.Combine(_resources.Path, "state.db")))
            .WithComponent(Components.PubSub, "pubsub.in-memory", ("redeliverInterval", "200ms"))
            .WithComponent(Components.Outbox, "bindings.smtp", ("host", "127.0.0.1"), ("port", _sink.Port.ToString(CultureInfo.InvariantCulture)),
                ("user", "daprshop"), ("password", "local-development-only"));
        _notifications = await ServiceProcess.StartAsync(new()
        {
            Project = "Notifications",
            AppId = AppIds.Notifications,
            ResourcesPaths = [_resources.Path],
            MeshDirectory = _mesh.Directory,
            Environment = new Dictionary<string, string> { ["Notifications__From"] = "Boutique <orders@daprshop.test>", ["Notifications__Payload"] = "Body" },
        });
        _ordering = await SidecarProcess.StartAsync(new() { AppId = AppIds.Ordering, MeshDirectory = _mesh.Directory, ResourcesPaths = [_resources.Path] });
    }

    public async Task DisposeAsync()
    {
        await _ordering.DisposeAsync();
        await _notifications.DisposeAsync();
        await _sink.DisposeAsync();
        _resources.Dispose();
        _mesh.Dispose();
        _mail.Delete(recursive: true);
    }

    [Fact]
    public async Task A_confirmed_order_is_mailed_over_smtp_as_html_to_the_shopper()
    {
        using var http = _ordering.CreateHttpClient();
        var order = new OrderConfirmed("order-7", "shopper-1", "grace@example.com",
            [new OrderLine("p-1", "Café <crème>", 3, new Money(250, "EUR"))], new Money(750, "EUR"), DateTimeOffset.UtcNow);

        (await http.PostAsJsonAsync($"/v1.0/publish/{Components.PubSub}/{Topics.OrderConfirmed}", order)).EnsureSuccessStatusCode();

        await Eventually.HoldsAsync(() => _sink.Received.Count == 1, TimeSpan.FromSeconds(20), "the mail reaches the SMTP server");
        var received = _sink.Received.Single();
        received.AuthenticatedUser.Should().Be("daprshop");
        received.To.Should().Equal("grace@example.com");
        var mail = await MimeMessage.LoadAsync(received.File);
        mail.From.Mailboxes.Single().Address.Should().Be("orders@daprshop.test");
        mail.Subject.Should().Be("Your DaprShop order order-7 is confirmed");
        mail.HtmlBody.Should().Contain("3 x Café &lt;crème&gt;").And.Contain("Total: EUR 7.50").And.StartWith("<!DOCTYPE html>");
    }
}
