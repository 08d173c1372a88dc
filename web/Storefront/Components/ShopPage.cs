using DaprShop.Storefront.Accounts;
using DaprShop.Storefront.Services;
using Microsoft.AspNetCore.Components;

namespace DaprShop.Storefront.Components;

/// <summary>
/// A statically rendered page of the shop. A core service that cannot answer becomes <see cref="Unavailable"/>:
/// the page shows a plain message and answers 503, never an error page.
/// </summary>
public abstract class ShopPage : ComponentBase
{
    [CascadingParameter]
    public HttpContext? HttpContext { get; set; }

    /// <summary>The app id of the core service that did not answer, if one did not.</summary>
    protected string? Unavailable { get; private set; }

    protected bool Missing { get; private set; }

    protected Shopper Shopper => HttpContext?.Shopper() ?? new Shopper("", false, null, null, false);

    /// <summary>Runs a page's loading; a service that does not answer turns the page into the service's message.</summary>
    protected async Task LoadAsync(Func<Task> load)
    {
        Unavailable = null;
        try
        {
            await load();
        }
        catch (ServiceUnavailableException e)
        {
            ShowUnavailable(e);
        }
    }

    protected void ShowUnavailable(ServiceUnavailableException e)
    {
        Unavailable = e.Service;
        SetStatus(StatusCodes.Status503ServiceUnavailable);
    }

    protected void ShowMissing()
    {
        Missing = true;
        SetStatus(StatusCodes.Status404NotFound);
    }

    protected void SetStatus(int status)
    {
        if (HttpContext is { Response.HasStarted: false } http)
        {
            http.Response.StatusCode = status;
        }
    }
}
