using System.Net;
using System.Net.Http.Json;
using DaprShop.Contracts;
using DaprShop.Payment.Payments;
using FluentAssertions;
using Microsoft.AspNetCore.Mvc;

namespace DaprShop.Payment.Tests.Integration;

public class PaymentProviderTests
{
    [Fact]
    public async Task An_approved_payment_is_captured_then_refunded_and_a_void_after_capture_is_refused()
    {
        await using var shop = await PaymentHarness.StartAsync();
        var request = PaymentHarness.Request("4242 4242 4242 4242");

        (await shop.AuthorizeAsync(request)).Should().Be(new PaymentResult(request.PaymentId, PaymentStatus.Approved, null));

        var capture = await shop.PostAsync(request.PaymentId, "capture");
        capture.StatusCode.Should().Be(HttpStatusCode.OK);
        (await capture.Content.ReadFromJsonAsync<PaymentResult>())!.Status.Should().Be(PaymentStatus.Captured);
        (await shop.PostAsync(request.PaymentId, "capture")).StatusCode.Should().Be(HttpStatusCode.OK, "a second capture is a no-op success");

        var voided = await shop.PostAsync(request.PaymentId, "void");
        voided.StatusCode.Should().Be(HttpStatusCode.Conflict);
        var problem = await voided.Content.ReadFromJsonAsync<ProblemDetails>();
        problem!.Detail.Should().Contain("refund");

        var refund = await shop.PostAsync(request.PaymentId, "refund");
        (await refund.Content.ReadFromJsonAsync<PaymentResult>())!.Status.Should().Be(PaymentStatus.Refunded);

        var details = await shop.GetAsync(request.PaymentId);
        details!.Ledger.Select(e => e.Operation).Should().Equal(PaymentOperation.Authorize, PaymentOperation.Capture, PaymentOperation.Refund);
        details.Amount.Should().Be(request.Amount);
        details.CardLast4.Should().Be("4242");
    }

    [Fact]
    public async Task Declined_and_insufficient_funds_cards_are_declined_with_their_reason_and_cannot_be_captured()
    {
        await using var shop = await PaymentHarness.StartAsync();
        var declined = PaymentHarness.Request(TestCards.Decline);
        var poor = PaymentHarness.Request(TestCards.InsufficientFunds);

        (await shop.AuthorizeAsync(declined)).Should().Be(new PaymentResult(declined.PaymentId, PaymentStatus.Declined, "card declined"));
        (await shop.AuthorizeAsync(poor)).Should().Be(new PaymentResult(poor.PaymentId, PaymentStatus.Declined, "insufficient funds"));
        (await shop.PostAsync(declined.PaymentId, "capture")).StatusCode.Should().Be(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task The_same_payment_id_authorized_twice_or_concurrently_is_charged_once()
    {
        await using var shop = await PaymentHarness.StartAsync();
        var request = PaymentHarness.Request(TestCards.Approve);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => shop.AuthorizeAsync(request)));
        var again = await shop.AuthorizeAsync(request);

        results.Should().AllBeEquivalentTo(new PaymentResult(request.PaymentId, PaymentStatus.Approved, null));
        again.Should().Be(results[0]);
        (await shop.GetAsync(request.PaymentId))!.Ledger.Should().ContainSingle(e => e.Operation == PaymentOperation.Authorize);

        using var http = shop.Http();
        var reused = await http.PostAsJsonAsync($"{PaymentHarness.Base}/authorize", request with { Amount = new Money(1, "EUR") });
        reused.StatusCode.Should().Be(HttpStatusCode.Conflict, "a payment id reused for another amount is a client bug, not a retry");
    }

    [Fact]
    public async Task An_invalid_card_is_a_validation_problem_that_names_the_field_and_records_nothing()
    {
        await using var shop = await PaymentHarness.StartAsync();
        var request = PaymentHarness.Request("4242 4242 4242 4241") with { Expiry = "01/20" };
        using var http = shop.Http();

        var response = await http.PostAsJsonAsync($"{PaymentHarness.Base}/authorize", request);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var problem = await response.Content.ReadFromJsonAsync<ValidationProblemDetails>();
        problem!.Errors.Keys.Should().BeEquivalentTo("cardNumber", "expiry");
        (await shop.GetAsync(request.PaymentId)).Should().BeNull();
        (await shop.PostAsync(request.PaymentId, "capture")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task The_asynchronous_card_answers_pending_then_delivers_the_approval_to_orderings_webhook()
    {
        await using var shop = await PaymentHarness.StartAsync();
        var request = PaymentHarness.Request(TestCards.ApproveAfterConfirmation);

        (await shop.AuthorizeAsync(request)).Status.Should().Be(PaymentStatus.Pending);
        (await shop.PostAsync(request.PaymentId, "capture")).StatusCode.Should().Be(HttpStatusCode.Conflict, "a pending authorization cannot be captured");

        await Eventually.HoldsAsync(() => shop.Ordering.RequestsTo("/api/v1/payments/webhook").Any(), TimeSpan.FromSeconds(30), "the confirmation reaches ordering");
        var webhook = shop.Ordering.RequestsTo("/api/v1/payments/webhook").Single();
        PaymentWebhook.Verify(PaymentHarness.SigningKey, webhook.Body, webhook.Headers[PaymentWebhook.SignatureHeader.ToLowerInvariant()])
            .Should().BeTrue("ordering only accepts confirmations signed with the shared key");
        System.Text.Json.JsonSerializer.Deserialize<PaymentConfirmation>(webhook.Body, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))
            .Should().Be(new PaymentConfirmation(request.PaymentId, Approved: true, Reason: null));
        (await shop.GetAsync(request.PaymentId))!.Status.Should().Be(PaymentStatus.Approved);
        (await shop.PostAsync(request.PaymentId, "capture")).StatusCode.Should().Be(HttpStatusCode.OK);

        await Task.Delay(TimeSpan.FromSeconds(3));
        shop.Ordering.RequestsTo("/api/v1/payments/webhook").Should().HaveCount(1, "the reminder is removed once ordering accepted the confirmation");
    }

    [Fact]
    public async Task A_confirmation_ordering_refuses_is_delivered_again_until_it_is_accepted()
    {
        await using var shop = await PaymentHarness.StartAsync();
        shop.WebhookStatus = 500;
        var request = PaymentHarness.Request(TestCards.ApproveAfterConfirmation);
        await shop.AuthorizeAsync(request);

        await Eventually.HoldsAsync(() => shop.Ordering.RequestsTo("/api/v1/payments/webhook").Count() >= 2, TimeSpan.FromSeconds(30), "the refused confirmation is offered again");
        shop.WebhookStatus = 200;
        var attempts = shop.Ordering.RequestsTo("/api/v1/payments/webhook").Count();
        await Eventually.HoldsAsync(() => shop.Ordering.RequestsTo("/api/v1/payments/webhook").Count() > attempts, TimeSpan.FromSeconds(30), "a later attempt is accepted");
        var accepted = shop.Ordering.RequestsTo("/api/v1/payments/webhook").Count();

        await Task.Delay(TimeSpan.FromSeconds(3));
        shop.Ordering.RequestsTo("/api/v1/payments/webhook").Count().Should().Be(accepted, "no delivery follows the accepted one");
    }

    [Fact]
    public async Task The_never_confirmed_card_stays_pending_and_can_be_voided()
    {
        await using var shop = await PaymentHarness.StartAsync();
        var request = PaymentHarness.Request(TestCards.PendingForever);

        (await shop.AuthorizeAsync(request)).Status.Should().Be(PaymentStatus.Pending);
        await Task.Delay(TimeSpan.FromSeconds(3));

        shop.Ordering.RequestsTo("/api/v1/payments/webhook").Should().BeEmpty();
        (await shop.GetAsync(request.PaymentId))!.Status.Should().Be(PaymentStatus.Pending);
        var voided = await shop.PostAsync(request.PaymentId, "void");
        (await voided.Content.ReadFromJsonAsync<PaymentResult>())!.Status.Should().Be(PaymentStatus.Voided);
    }

    [Fact]
    public async Task The_timeout_card_hangs_longer_than_the_caller_waits_and_records_nothing()
    {
        await using var shop = await PaymentHarness.StartAsync();
        var request = PaymentHarness.Request(TestCards.ProviderTimeout);
        using var http = shop.Http();
        http.Timeout = TimeSpan.FromSeconds(1);

        var call = () => http.PostAsJsonAsync($"{PaymentHarness.Base}/authorize", request);

        await call.Should().ThrowAsync<TaskCanceledException>();
        await Task.Delay(TimeSpan.FromSeconds(4));
        (await shop.GetAsync(request.PaymentId)).Should().BeNull();
    }

    [Fact]
    public async Task Payments_and_pending_confirmations_survive_a_restart_of_the_service()
    {
        await using var shop = await PaymentHarness.StartAsync(new Dictionary<string, string> { ["Payment__ConfirmationDelay"] = "00:00:05" });
        var approved = PaymentHarness.Request(TestCards.Approve);
        var pending = PaymentHarness.Request(TestCards.ApproveAfterConfirmation);
        await shop.AuthorizeAsync(approved);
        await shop.AuthorizeAsync(pending);

        shop.Payment.KillService();
        await shop.Payment.RestartServiceAsync();

        (await shop.AuthorizeAsync(approved)).Status.Should().Be(PaymentStatus.Approved);
        (await shop.GetAsync(approved.PaymentId))!.Ledger.Should().ContainSingle();
        await Eventually.HoldsAsync(() => shop.Ordering.RequestsTo("/api/v1/payments/webhook").Any(), TimeSpan.FromSeconds(40), "the pending confirmation is delivered after the restart");
        (await shop.GetAsync(pending.PaymentId))!.Status.Should().Be(PaymentStatus.Approved);
    }

    [Fact]
    public async Task A_simulated_transient_failure_is_a_503_that_does_nothing()
    {
        await using var shop = await PaymentHarness.StartAsync(new Dictionary<string, string> { ["Payment__FailureRate"] = "1" });
        var request = PaymentHarness.Request(TestCards.Approve);
        using var http = shop.Http();

        var response = await http.PostAsJsonAsync($"{PaymentHarness.Base}/authorize", request);

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        using var direct = shop.Payment.CreateHttpClient();
        (await direct.GetAsync($"/internal/payments/{request.PaymentId}")).StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
    }

    [Fact]
    public async Task Invalid_options_stop_the_service_at_start()
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(ServiceProcess.DllOf("Payment"))!,
        };
        start.ArgumentList.Add(ServiceProcess.DllOf("Payment"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{Ports.Free()}");
        start.Environment["Payment__FailureRate"] = "1.5";
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);

        process.ExitCode.Should().NotBe(0);
        (await output + await errors).Should().Contain("FailureRate");
    }
}
