namespace DaprShop.Payment.Payments;

/// <summary>How the simulated card network answers an authorization for a card.</summary>
public enum CardBehaviour
{
    Approve,
    Decline,
    InsufficientFunds,
    ApproveAfterConfirmation,
    ProviderTimeout,
    PendingForever,
}

/// <summary>
/// The deterministic test cards (any future expiry, any 3- or 4-digit CVC, any card holder):
/// <list type="table">
/// <item><term>4242 4242 4242 4242</term><description>approved.</description></item>
/// <item><term>4000 0000 0000 0002</term><description>declined: "card declined".</description></item>
/// <item><term>4000 0000 0000 9995</term><description>declined: "insufficient funds".</description></item>
/// <item><term>4000 0000 0000 3220</term><description>Pending, then approved: after
/// <c>Payment:ConfirmationDelay</c> the provider posts a <c>PaymentConfirmation</c> to ordering's partner webhook.</description></item>
/// <item><term>4000 0000 0000 0119</term><description>the provider times out: the call hangs for
/// <c>Payment:ProviderTimeout</c> (longer than the caller waits), answers 504 and records nothing.</description></item>
/// <item><term>4000 0000 0000 3063</term><description>Pending, and never confirmed.</description></item>
/// </list>
/// Any other card that passes validation is approved, as test modes of real providers do.
/// </summary>
public static class TestCards
{
    public const string Approve = "4242424242424242";
    public const string Decline = "4000000000000002";
    public const string InsufficientFunds = "4000000000009995";
    public const string ApproveAfterConfirmation = "4000000000003220";
    public const string ProviderTimeout = "4000000000000119";
    public const string PendingForever = "4000000000003063";

    public static CardBehaviour BehaviourOf(string normalizedNumber) => normalizedNumber switch
    {
        Decline => CardBehaviour.Decline,
        InsufficientFunds => CardBehaviour.InsufficientFunds,
        ApproveAfterConfirmation => CardBehaviour.ApproveAfterConfirmation,
        ProviderTimeout => CardBehaviour.ProviderTimeout,
        PendingForever => CardBehaviour.PendingForever,
        _ => CardBehaviour.Approve,
    };
}
