using System.ComponentModel.DataAnnotations;

namespace DaprShop.Ordering;

public sealed class OrderingOptions
{
    public const string Section = "Ordering";

    /// <summary>How long the saga waits for an asynchronous payment confirmation before it gives up and compensates.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan PaymentConfirmationTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a shopper may cancel after checkout (and only until the order is confirmed).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan CancellationGracePeriod { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long inventory holds the stock of an order in checkout. Longer than the payment wait, so a slow
    /// confirmation never finds its stock gone; a crashed saga's reservation still expires on its own.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan ReservationHold { get; set; } = TimeSpan.FromMinutes(15);
}
