using System.Net;
using System.Text;
using Dapr.Workflow;
using DaprShop.Ordering.Activities;
using FluentAssertions;

namespace DaprShop.Ordering.Tests.Unit;

public sealed class PaymentActivitiesTests
{
    /// <summary>Answers each path with a canned response and records the calls, as the payment service's sidecar would be seen.</summary>
    private sealed class Provider(Dictionary<string, (HttpStatusCode Status, string Body)> answers) : HttpMessageHandler, IHttpClientFactory
    {
        public List<string> Calls { get; } = [];

        public HttpClient CreateClient(string name) => new(this, disposeHandler: false) { BaseAddress = new Uri($"http://{name}/") };

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath;
            Calls.Add(path);
            var (status, body) = answers[path];
            return Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/problem+json") });
        }
    }

    private sealed class Context : WorkflowActivityContext
    {
        public override string InstanceId => "order-1";
        public override string TaskExecutionKey => "order-1:1";
        public override Dapr.Workflow.Abstractions.TaskIdentifier Identifier => new(nameof(VoidPaymentActivity));
    }

    [Fact]
    public async Task A_void_that_finds_the_payment_captured_refunds_it()
    {
        using var provider = new Provider(new()
        {
            ["/internal/payments/order-1/void"] = (HttpStatusCode.Conflict, """{"title":"The payment cannot make this transition","paymentStatus":"Captured"}"""),
            ["/internal/payments/order-1/refund"] = (HttpStatusCode.OK, """{"paymentId":"order-1","status":"Refunded"}"""),
        });

        await new VoidPaymentActivity(provider).RunAsync(new Context(), "order-1");

        provider.Calls.Should().Equal("/internal/payments/order-1/void", "/internal/payments/order-1/refund");
    }

    [Fact]
    public async Task A_void_with_nothing_left_to_void_is_done_without_a_refund()
    {
        using var provider = new Provider(new()
        {
            ["/internal/payments/order-1/void"] = (HttpStatusCode.Conflict, """{"title":"The payment cannot make this transition","paymentStatus":"Declined"}"""),
        });

        await new VoidPaymentActivity(provider).RunAsync(new Context(), "order-1");

        provider.Calls.Should().Equal("/internal/payments/order-1/void");
    }

    [Fact]
    public async Task A_void_the_provider_cannot_answer_fails_so_the_saga_retries_it()
    {
        using var provider = new Provider(new() { ["/internal/payments/order-1/void"] = (HttpStatusCode.ServiceUnavailable, "") });

        var run = () => new VoidPaymentActivity(provider).RunAsync(new Context(), "order-1");

        await run.Should().ThrowAsync<HttpRequestException>();
    }
}
