using System.ComponentModel.DataAnnotations;

namespace DaprShop.Payment.Simulation;

/// <summary>How the simulated provider behaves (section <c>Payment</c>), checked when the service starts.</summary>
public sealed class PaymentOptions
{
    public const string Section = "Payment";

    /// <summary>Added to every provider call, to make the saga feel a real network.</summary>
    [Range(0, 60_000)]
    public int LatencyMs { get; set; }

    /// <summary>Share of provider calls answered 503 before anything is done (transient failures to retry).</summary>
    [Range(0.0, 1.0)]
    public double FailureRate { get; set; }

    /// <summary>How long the issuer takes to confirm the asynchronous test card.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan ConfirmationDelay { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How often an undelivered confirmation is offered to ordering's webhook again.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ConfirmationRetryInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the timeout card hangs: longer than the caller waits.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan ProviderTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
