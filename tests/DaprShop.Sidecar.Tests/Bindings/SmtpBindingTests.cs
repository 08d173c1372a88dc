using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapr;
using Dapr.Client;
using DaprShop.MailSink;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using MimeKit;

namespace DaprShop.Sidecar.Tests.Bindings;

/// <summary><c>bindings.smtp</c> against a real SMTP server on loopback (DaprShop's development mail sink).</summary>
public sealed class SmtpBindingTests : IAsyncLifetime
{
    private readonly DirectoryInfo _mail = Directory.CreateTempSubdirectory("daprshop-mail-");
    private MailSinkServer _sink = null!;

    public Task InitializeAsync()
    {
        _sink = MailSinkServer.Start(Ports.Free(), _mail.FullName);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _sink.DisposeAsync();
        _mail.Delete(recursive: true);
    }

    private Task<SidecarProcess> StartAsync(TestMesh mesh, ResourcesFolder resources, params (string Name, string Value)[] extra)
    {
        resources.WithComponent("mail", "bindings.smtp",
            [("host", "127.0.0.1"), ("port", _sink.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)), .. extra]);
        return SidecarProcess.StartAsync(new() { AppId = "mailer", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
    }

    private async Task<MimeMessage> SingleMailAsync()
    {
        await Eventually.HoldsAsync(() => _sink.Received.Count == 1, "the server received one mail");
        return await MimeMessage.LoadAsync(_sink.Received.Single().File);
    }

    [Fact]
    public async Task A_create_sends_the_data_as_an_html_mail_addressed_by_the_components_defaults_and_logs_in()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder();
        await using var sidecar = await StartAsync(mesh, resources,
            ("user", "shop"), ("password", "secret"), ("emailFrom", "shop@daprshop.test"), ("emailTo", "ada@example.com;bob@example.com"),
            ("emailCC", "cc@example.com"), ("emailBCC", "audit@example.com"), ("subject", "Your order"), ("priority", "1"));
        using var http = sidecar.CreateHttpClient();

        using var response = await http.PostAsJsonAsync("/v1.0/bindings/mail", new { operation = "create", data = "<p>Thank you, Ada!</p>" });

        response.StatusCode.Should().Be(HttpStatusCode.NoContent);
        var mail = await SingleMailAsync();
        mail.From.Mailboxes.Select(m => m.Address).Should().Equal("shop@daprshop.test");
        mail.To.Mailboxes.Select(m => m.Address).Should().Equal("ada@example.com", "bob@example.com");
        mail.Cc.Mailboxes.Select(m => m.Address).Should().Equal("cc@example.com");
        mail.Bcc.Count.Should().Be(0, "Bcc recipients are in the envelope, not the headers");
        _sink.Received.Single().To.Should().BeEquivalentTo(["ada@example.com", "bob@example.com", "cc@example.com", "audit@example.com"]);
        mail.Subject.Should().Be("Your order");
        mail.Headers["X-Priority"].Should().Be("1");
        mail.HtmlBody.Should().Be("<p>Thank you, Ada!</p>", "a JSON string is sent unquoted");
        _sink.Received.Single().AuthenticatedUser.Should().Be("shop");
    }

    [Fact]
    public async Task A_requests_metadata_overrides_the_defaults_and_the_sdk_sends_raw_bytes_over_grpc()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder();
        await using var sidecar = await StartAsync(mesh, resources, ("emailFrom", "shop@daprshop.test"), ("emailTo", "nobody@example.com"), ("subject", "default"));
        using var client = sidecar.CreateClient();

        await client.InvokeBindingAsync(new BindingRequest("mail", "create")
        {
            Data = "<b>Shipped</b>"u8.ToArray(),
            Metadata = { ["emailTo"] = "grace@example.com", ["subject"] = "Order 42 shipped", ["priority"] = "5" },
        });

        var mail = await SingleMailAsync();
        mail.To.Mailboxes.Select(m => m.Address).Should().Equal("grace@example.com");
        mail.Subject.Should().Be("Order 42 shipped");
        mail.Headers["X-Priority"].Should().Be("5");
        mail.HtmlBody.Should().Be("<b>Shipped</b>");
        _sink.Received.Single().AuthenticatedUser.Should().BeNull("no user was configured");
    }

    [Fact]
    public async Task A_mail_without_a_sender_or_with_a_bad_priority_is_refused_and_nothing_is_sent()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder();
        await using var sidecar = await StartAsync(mesh, resources, ("emailTo", "ada@example.com"), ("subject", "Hello"));
        using var http = sidecar.CreateHttpClient();

        using var noSender = await http.PostAsJsonAsync("/v1.0/bindings/mail", new { operation = "create", data = "x" });
        using var badPriority = await http.PostAsJsonAsync("/v1.0/bindings/mail", new { operation = "create", data = "x", metadata = new { emailFrom = "a@b.c", priority = "9" } });
        using var unknownOperation = await http.PostAsJsonAsync("/v1.0/bindings/mail", new { operation = "get", data = "x" });

        foreach (var (response, says) in new[] { (noSender, "emailFrom property not supplied"), (badPriority, "priority value must be between 1"), (unknownOperation, "does not support operation get") })
        {
            response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
            var error = await response.Content.ReadFromJsonAsync<JsonElement>();
            error.GetProperty("errorCode").GetString().Should().Be("ERR_INVOKE_OUTPUT_BINDING");
            error.GetProperty("message").GetString().Should().Contain(says);
        }
        _sink.Received.Should().BeEmpty();
    }

    [Fact]
    public async Task An_unreachable_server_is_an_error_the_caller_sees()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder();
        resources.WithComponent("mail", "bindings.smtp", ("host", "127.0.0.1"), ("port", Ports.Free().ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("emailFrom", "shop@daprshop.test"), ("emailTo", "ada@example.com"), ("subject", "Hello"));
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "mailer", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var client = sidecar.CreateClient();

        var act = () => client.InvokeBindingAsync(new BindingRequest("mail", "create") { Data = "x"u8.ToArray() });

        (await act.Should().ThrowAsync<DaprException>()).Which.InnerException!.Message.Should().Contain("sending email failed");
    }

    [Theory]
    [InlineData("port", "0", "port")]
    [InlineData("user", "shop", "password")]
    [InlineData("priority", "7", "priority")]
    public async Task A_bad_component_stops_the_sidecar_naming_the_field(string name, string value, string field)
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().WithComponent("mail", "bindings.smtp",
            [("host", "127.0.0.1"), .. name == "port" ? [] : new[] { ("port", "2525") }, (name, value)]);

        var (code, output) = await SidecarProcess.RunToExitAsync(new() { AppId = "mailer", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });

        code.Should().NotBe(0);
        output.Should().Contain("'mail'").And.Contain($"metadata '{field}'");
    }
}
