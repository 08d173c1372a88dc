using System.ComponentModel.DataAnnotations;
using System.Net;

namespace DaprShop.Gateway;

/// <summary>The <c>Gateway</c> configuration section.</summary>
public sealed class GatewayOptions : IValidatableObject
{
    public const string Section = "Gateway";

    /// <summary>
    /// Where the storefront listens, when the AppHost's service discovery (<c>services:storefront:http:0</c>) does
    /// not say: discovery wins, because whoever started the storefront knows its address.
    /// </summary>
    public string StorefrontUrl { get; set; } = "http://localhost:5100";

    /// <summary>How long an API call may go without any activity (no response headers, no body bytes) before the gateway answers 504.</summary>
    [Range(1, 600)]
    public int ApiTimeoutSeconds { get; set; } = 30;

    /// <summary>The same for the storefront; WebSocket connections count as idle after it too (Blazor pings every 15 s).</summary>
    [Range(1, 3_600)]
    public int StorefrontTimeoutSeconds { get; set; } = 100;

    /// <summary>
    /// Proxies (IP addresses or CIDR networks) whose <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are believed.
    /// Empty (the default): the client is whoever opened the connection, whatever the headers say.
    /// </summary>
    public string[] TrustedProxies { get; set; } = [];

    public RateLimitOptions RateLimit { get; set; } = new();

    public AdmissionOptions Admission { get; set; } = new();

    public CachingOptions Caching { get; set; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Uri.TryCreate(StorefrontUrl, UriKind.Absolute, out var storefront) || (storefront.Scheme != Uri.UriSchemeHttp && storefront.Scheme != Uri.UriSchemeHttps))
        {
            yield return new ValidationResult($"'{StorefrontUrl}' is not an absolute http(s) URL.", [nameof(StorefrontUrl)]);
        }
        foreach (var proxy in TrustedProxies)
        {
            if (!IPAddress.TryParse(proxy, out _) && !IPNetwork.TryParse(proxy, out _))
            {
                yield return new ValidationResult($"'{proxy}' is neither an IP address nor a CIDR network.", [nameof(TrustedProxies)]);
            }
        }
        foreach (var (name, nested) in new (string, object)[] { (nameof(RateLimit), RateLimit), (nameof(Admission), Admission), (nameof(Caching), Caching) })
        {
            var results = new List<ValidationResult>();
            Validator.TryValidateObject(nested, new ValidationContext(nested), results, validateAllProperties: true);
            foreach (var result in results)
            {
                yield return new ValidationResult(result.ErrorMessage, result.MemberNames.Select(m => $"{name}.{m}"));
            }
        }
    }
}

/// <summary>Per-client rate limiting: a fixed window of <see cref="PermitLimit"/> requests per client IP.</summary>
public sealed class RateLimitOptions
{
    [Range(1, 1_000_000)]
    public int PermitLimit { get; set; } = 300;

    [Range(1, 3_600)]
    public int WindowSeconds { get; set; } = 10;
}

/// <summary>Load shedding: how many API calls one gateway replica lets into the shop at once, and how long others may wait.</summary>
public sealed class AdmissionOptions
{
    [Range(1, 100_000)]
    public int MaxConcurrentApiCalls { get; set; } = 256;

    /// <summary>Calls that may wait for a free place; beyond these, the answer is 503 at once.</summary>
    [Range(0, 100_000)]
    public int QueueLimit { get; set; } = 256;

    /// <summary>How long a call may wait in that queue before it is refused with 503; 0 refuses at once.</summary>
    [Range(0, 60_000)]
    public int MaxQueueMilliseconds { get; set; } = 1_000;
}

public sealed class CachingOptions
{
    /// <summary>How long the gateway keeps an anonymous catalog read (output cache); 0 turns it off.</summary>
    [Range(0, 3_600)]
    public int CatalogReadSeconds { get; set; } = 10;

    /// <summary><c>Cache-Control: public, max-age</c> for product pictures that come without one.</summary>
    [Range(0, 31_536_000)]
    public int PictureMaxAgeSeconds { get; set; } = 86_400;

    /// <summary>The same for the storefront's static files (<c>/_framework</c>, <c>/_content</c>, styles, scripts, images, fonts).</summary>
    [Range(0, 31_536_000)]
    public int StaticAssetMaxAgeSeconds { get; set; } = 3_600;

    /// <summary>Cookie names (or name prefixes ending in '.') that mark a signed-in request, which is never served from or stored in the cache.</summary>
    public string[] AuthCookies { get; set; } = [".AspNetCore.Cookies", ".AspNetCore.Identity."];
}
