using System.Net.Http.Json;
using DaprShop.Contracts;
using DaprShop.Payment.Payments;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DaprShop.Payment.Tests.Integration;

/// <summary>
/// The payment service with its sidecar on a durable sqlite store, a caller's sidecar in the same mesh (ordering's
/// view of the provider), and a stand-in for ordering that records the webhooks it receives.
/// </summary>
public sealed class PaymentHarness : IAsyncDisposable
{
    private readonly TestMesh _mesh = new();
    private readonly ResourcesFolder _resources = new();

    private PaymentHarness()
    {
        _resources.WithComponent(Components.StateStore, "state.sqlite",
            ("connectionString", Path.Combine(_resources.Path, "state.db")),
            ("actorStateStore", "true"));
        File.WriteAllText(Path.Combine(_resources.Path, "secrets.json"), "{\"payment\":{\"webhook-signing-key\":\"" + SigningKey + "\"}}");
        _resources.WithComponent(Components.SecretStore, "secretstores.local.file",
            ("secretsFile", Path.Combine(_resources.Path, "secrets.json")), ("nestedSeparator", ":"));
    }

    public const string SigningKey = "test-signing-key";

    public ServiceProcess Payment { get; private set; } = null!;
    public SidecarProcess Caller { get; private set; } = null!;
    public TestApp Ordering { get; private set; } = null!;
    public SidecarProcess OrderingSidecar { get; private set; } = null!;

    /// <summary>What ordering's webhook answers: a failure makes the provider deliver again.</summary>
    public int WebhookStatus { get; set; } = StatusCodes.Status200OK;

    public static async Task<PaymentHarness> StartAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        var harness = new PaymentHarness();
        try
        {
            harness.Ordering = await TestApp.StartAsync(app =>
                app.MapPost("/api/v1/payments/webhook", () => Results.StatusCode(harness.WebhookStatus)));
            harness.OrderingSidecar = await SidecarProcess.StartAsync(new()
            {
                AppId = AppIds.Ordering,
                AppPort = harness.Ordering.Port,
                MeshDirectory = harness._mesh.Directory,
                ResourcesPaths = [harness._resources.Path],
            });
            harness.Payment = await ServiceProcess.StartAsync(new()
            {
                Project = "Payment",
                AppId = AppIds.Payment,
                ResourcesPaths = [harness._resources.Path],
                MeshDirectory = harness._mesh.Directory,
                Environment = new Dictionary<string, string>
                {
                    ["Payment__ConfirmationDelay"] = "00:00:01",
                    ["Payment__ConfirmationRetryInterval"] = "00:00:01",
                    ["Payment__ProviderTimeout"] = "00:00:04",
                }.Concat(settings ?? new Dictionary<string, string>()).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Last().Value),
            });
            harness.Caller = await SidecarProcess.StartAsync(new()
            {
                AppId = "caller",
                MeshDirectory = harness._mesh.Directory,
                ResourcesPaths = [harness._resources.Path],
            });
        }
        catch
        {
            await harness.DisposeAsync();
            throw;
        }
        return harness;
    }

    public static AuthorizePayment Request(string card, long amount = 4_999, string? paymentId = null) =>
        new(paymentId ?? Guid.NewGuid().ToString("N"), new Money(amount, "EUR"), card, "Ada Lovelace", "12/35", "123");

    /// <summary>An HTTP client to the caller's sidecar: every call goes through Dapr service invocation.</summary>
    public HttpClient Http() => Caller.CreateHttpClient();

    public const string Base = "/v1.0/invoke/payment/method/internal/payments";

    public async Task<PaymentResult> AuthorizeAsync(AuthorizePayment request)
    {
        using var http = Http();
        var response = await http.PostAsJsonAsync($"{Base}/authorize", request);
        response.StatusCode.Should().Be(System.Net.HttpStatusCode.OK, $"{await response.Content.ReadAsStringAsync()}{Environment.NewLine}{Payment.Output}");
        return (await response.Content.ReadFromJsonAsync<PaymentResult>())!;
    }

    public async Task<HttpResponseMessage> PostAsync(string paymentId, string operation)
    {
        using var http = Http();
        return await http.PostAsync($"{Base}/{paymentId}/{operation}", null);
    }

    public async Task<PaymentDetails?> GetAsync(string paymentId)
    {
        using var http = Http();
        var response = await http.GetAsync($"{Base}/{paymentId}");
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
        response.StatusCode.Should().Be(System.Net.HttpStatusCode.OK, $"{await response.Content.ReadAsStringAsync()}{Environment.NewLine}{Payment.Output}");
        return await response.Content.ReadFromJsonAsync<PaymentDetails>();
    }

    public async ValueTask DisposeAsync()
    {
        if (Caller is not null)
        {
            await Caller.DisposeAsync();
        }
        if (Payment is not null)
        {
            await Payment.DisposeAsync();
        }
        if (OrderingSidecar is not null)
        {
            await OrderingSidecar.DisposeAsync();
        }
        if (Ordering is not null)
        {
            await Ordering.DisposeAsync();
        }
        _resources.Dispose();
        _mesh.Dispose();
    }
}
