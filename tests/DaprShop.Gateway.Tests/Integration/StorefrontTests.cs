using System.Net;
using System.Net.WebSockets;
using System.Text;
using FluentAssertions;

namespace DaprShop.Gateway.Tests.Integration;

/// <summary>Everything outside the API goes straight to the storefront, WebSockets included, never through Dapr.</summary>
[Collection(EdgeCollection.Name)]
public sealed class StorefrontTests(Edge edge)
{
    [Fact]
    public async Task Pages_come_from_the_storefront_directly_without_any_dapr_headers()
    {
        using var http = edge.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/?from=home");
        request.Headers.Add("dapr-app-id", "catalog");
        request.Headers.Add("dapr-api-token", "client-chosen-token");
        request.Headers.Add("X-Forwarded-For", "203.0.113.9");

        using var response = await http.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Contain("<h1>DaprShop</h1>");
        var received = edge.Storefront.Requests.Where(r => r.Path == "/" && r.Query == "?from=home").Should().ContainSingle().Subject;
        received.Headers.Keys.Should().NotContain(name => name.StartsWith("dapr-"), "neither the client's dapr headers nor Dapr itself reach the storefront");
        received.Headers["x-forwarded-for"].Should().Be("127.0.0.1", "a client's own X-Forwarded-For is not believed unless it comes through a trusted proxy");
    }

    [Fact]
    public async Task A_websocket_is_carried_both_ways()
    {
        using var socket = new ClientWebSocket();
        var uri = new UriBuilder(edge.Gateway.AppEndpoint) { Scheme = "ws", Path = "/ws" }.Uri;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        await socket.ConnectAsync(uri, timeout.Token);
        var replies = new List<string>();
        foreach (var message in new[] { "hello", "blazor circuit" })
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
            var buffer = new byte[1024];
            var received = await socket.ReceiveAsync(buffer, timeout.Token);
            replies.Add(Encoding.UTF8.GetString(buffer, 0, received.Count));
        }
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);

        replies.Should().Equal("hello", "blazor circuit");
        socket.State.Should().Be(WebSocketState.Closed);
    }
}
