using System.Net.Http.Json;
using DaprShop.Contracts;
using FluentAssertions;

namespace DaprShop.Notifications.Tests.Integration;

/// <summary>The notifications service with its sidecar, and ordering's sidecar publishing into the same in-memory broker.</summary>
public sealed class NotificationsTests : IAsyncLifetime
{
    private readonly TestMesh _mesh = new();
    private readonly ResourcesFolder _resources = new();
    private readonly string _outbox = Directory.CreateTempSubdirectory("daprshop-outbox-").FullName;
    private ServiceProcess _notifications = null!;
    private SidecarProcess _ordering = null!;

    public async Task InitializeAsync()
    {
        _resources
            .WithComponent(Components.StateStore, "state.sqlite", ("connectionString", Path.Combine(_resources.Path, "state.db")))
            .WithComponent(Components.PubSub, "pubsub.in-memory", ("redeliverInterval", "200ms"))
            .WithComponent(Components.Outbox, "bindings.localstorage", ("rootPath", _outbox));
        _notifications = await ServiceProcess.StartAsync(new()
        {
            Project = "Notifications",
            AppId = AppIds.Notifications,
            ResourcesPaths = [_resources.Path],
            MeshDirectory = _mesh.Directory,
            Environment = new Dictionary<string, string> { ["Notifications__From"] = "Boutique Zoë <orders@daprshop.test>" },
        });
        _ordering = await SidecarProcess.StartAsync(new() { AppId = AppIds.Ordering, MeshDirectory = _mesh.Directory, ResourcesPaths = [_resources.Path] });
    }

    private static OrderConfirmed Confirmed(string orderId) => new(orderId, "shopper-1", "grace@example.com",
        [new OrderLine("p-1", "Café crème", 3, new Money(250, "EUR")), new OrderLine("p-2", "Teapot", 1, new Money(3_900, "EUR"))],
        new Money(4_650, "EUR"), DateTimeOffset.UtcNow);

    private async Task PublishAsync(string topic, object data, string? cloudEventId = null)
    {
        using var http = _ordering.CreateHttpClient();
        var query = cloudEventId is null ? "" : $"?metadata.cloudevent.id={Uri.EscapeDataString(cloudEventId)}";
        var response = await http.PostAsJsonAsync($"/v1.0/publish/{Components.PubSub}/{topic}{query}", data);
        response.IsSuccessStatusCode.Should().BeTrue(await response.Content.ReadAsStringAsync());
    }

    private string[] Mails() => Directory.GetFiles(_outbox, "*.eml");

    /// <summary>The file appears when the sidecar opens it: read it once the sidecar has let go of it.</summary>
    private static async Task<string> ReadMailAsync(string path)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var text = await File.ReadAllTextAsync(path);
                if (text.Length > 0 || attempt > 100)
                {
                    return text;
                }
            }
            catch (IOException) when (attempt < 100)
            {
            }
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_confirmed_order_puts_an_email_to_the_shopper_in_the_outbox()
    {
        await PublishAsync(Topics.OrderConfirmed, Confirmed("order-7"));

        await Eventually.HoldsAsync(() => Mails().Length == 1, TimeSpan.FromSeconds(20), "the mail reaches the outbox");
        Path.GetFileName(Mails()[0]).Should().Be("order-7-confirmed.eml");
        var mail = MailFile.Parse(await ReadMailAsync(Mails()[0]));
        mail.Headers["To"].Should().Be("<grace@example.com>");
        mail.Headers["From"].Should().Be("Boutique Zoë <orders@daprshop.test>");
        mail.Headers["Subject"].Should().Be("Your DaprShop order order-7 is confirmed");
        mail.Headers["Message-ID"].Should().Be("<order-7.confirmed@daprshop.test>");
        mail.Body.Should().MatchRegex(@"3 x Café crème\s+EUR 2\.50\s+EUR 7\.50");
        mail.Body.Should().Contain("Total: EUR 46.50");
    }

    [Fact]
    public async Task The_same_cloud_event_delivered_twice_sends_one_mail()
    {
        await PublishAsync(Topics.OrderConfirmed, Confirmed("order-8"), cloudEventId: "evt-8");
        await Eventually.HoldsAsync(() => Mails().Length == 1, TimeSpan.FromSeconds(20), "the first delivery is mailed");
        // The id is marked once the mail is out: a duplicate that arrives before that is mailed too (at least once).
        await Eventually.HoldsAsync(() => _notifications.Output.Contains("Order order-8: Confirmed mail sent to the outbox", StringComparison.Ordinal),
            TimeSpan.FromSeconds(20), "the first delivery is processed");
        var first = await ReadMailAsync(Mails()[0]);
        File.Delete(Mails()[0]);

        await PublishAsync(Topics.OrderConfirmed, Confirmed("order-8"), cloudEventId: "evt-8");
        // A different event for the same topic is the proof that the duplicate has been delivered and skipped.
        await PublishAsync(Topics.OrderConfirmed, Confirmed("order-9"), cloudEventId: "evt-9");
        await Eventually.HoldsAsync(() => File.Exists(Path.Combine(_outbox, "order-9-confirmed.eml")), TimeSpan.FromSeconds(20), "the next event is mailed");
        await Task.Delay(500);

        Mails().Select(Path.GetFileName).Should().Equal("order-9-confirmed.eml");
        first.Should().Contain("order-8");
    }

    [Fact]
    public async Task Failed_and_cancelled_orders_are_mailed_with_their_reason()
    {
        await PublishAsync(Topics.OrderFailed, new OrderFailed("order-10", "s-1", "lin@example.com", "Your card was declined.", DateTimeOffset.UtcNow));
        await PublishAsync(Topics.OrderCancelled, new OrderCancelled("order-11", "s-1", "lin@example.com", "Cancelled at your request.", DateTimeOffset.UtcNow));

        await Eventually.HoldsAsync(() => Mails().Length == 2, TimeSpan.FromSeconds(20), "both mails reach the outbox");
        MailFile.Parse(await ReadMailAsync(Path.Combine(_outbox, "order-10-failed.eml"))).Body.Should().Contain("Reason: Your card was declined.");
        MailFile.Parse(await ReadMailAsync(Path.Combine(_outbox, "order-11-cancelled.eml"))).Body.Should().Contain("Reason: Cancelled at your request.");
    }

    [Fact]
    public async Task Every_subscription_names_a_dead_letter_topic()
    {
        using var http = _notifications.CreateHttpClient();

        var subscriptions = await http.GetFromJsonAsync<List<Subscription>>("/dapr/subscribe");

        subscriptions!.Select(s => (s.Topic, s.DeadLetterTopic)).Should().BeEquivalentTo(new[]
        {
            (Topics.OrderConfirmed, Topics.DeadLetter(Topics.OrderConfirmed)),
            (Topics.OrderFailed, Topics.DeadLetter(Topics.OrderFailed)),
            (Topics.OrderCancelled, Topics.DeadLetter(Topics.OrderCancelled)),
        });
        subscriptions.Should().OnlyContain(s => s.PubsubName == Components.PubSub);
    }

    private sealed record Subscription(string PubsubName, string Topic, string? DeadLetterTopic);

    public async Task DisposeAsync()
    {
        if (_ordering is not null)
        {
            await _ordering.DisposeAsync();
        }
        if (_notifications is not null)
        {
            await _notifications.DisposeAsync();
        }
        _resources.Dispose();
        _mesh.Dispose();
        try
        {
            Directory.Delete(_outbox, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
