using System.Text.RegularExpressions;
using DaprShop.Storefront.Accounts;
using DaprShop.Storefront.Services;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace DaprShop.Storefront.Shopping;

/// <summary>A basket form as posted by the catalog, product and basket pages (plain HTML forms, so they work before and without a circuit).</summary>
public sealed record BasketForm(string? ProductId, int? Quantity, string? ReturnUrl);

/// <summary>
/// The storefront's own endpoints next to its pages: the product pictures it fetches from the catalog through Dapr
/// (so they load the same behind the gateway and when the storefront is opened directly), and the basket and
/// sign-out forms, which post here and redirect back (antiforgery is checked for every form post).
/// </summary>
public static partial class ShopEndpoints
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex IdPattern();

    public static IEndpointRouteBuilder MapPictures(this IEndpointRouteBuilder app)
    {
        app.MapGet("/pictures/{productId}", PictureAsync).ExcludeFromDescription();
        return app;
    }

    public static IEndpointRouteBuilder MapBasketForms(this IEndpointRouteBuilder app)
    {
        var forms = app.MapGroup("/basket").ExcludeFromDescription();
        forms.MapPost("/add", (([FromForm] BasketForm form, HttpContext http, BasketClient basket) =>
            ChangeAsync(form, "added", () => basket.AddAsync(http.Shopper().ShopperId, form.ProductId!, form.Quantity ?? 1, http.RequestAborted))));
        forms.MapPost("/update", (([FromForm] BasketForm form, HttpContext http, BasketClient basket) =>
            ChangeAsync(form, form.Quantity == 0 ? "removed" : "updated", () => basket.SetQuantityAsync(http.Shopper().ShopperId, form.ProductId!, form.Quantity ?? 1, http.RequestAborted))));
        forms.MapPost("/remove", (([FromForm] BasketForm form, HttpContext http, BasketClient basket) =>
            ChangeAsync(form, "removed", () => basket.RemoveAsync(http.Shopper().ShopperId, form.ProductId!, http.RequestAborted))));
        return app;
    }

    public static IEndpointRouteBuilder MapAccountForms(this IEndpointRouteBuilder app)
    {
        // A form post (antiforgery-checked): a link could sign anyone out from another site.
        app.MapPost("/account/signout", async ([FromForm] string? returnUrl, HttpContext http) =>
        {
            await http.SignOutAsync(ShopperIdentity.Scheme);
            return TypedResults.LocalRedirect(Notices.Redirect("/", "signed-out"));
        }).ExcludeFromDescription();
        return app;
    }

    internal static async Task<Results<FileContentHttpResult, StatusCodeHttpResult, NotFound>> PictureAsync(string productId, HttpContext http, CatalogClient catalog)
    {
        if (!IdPattern().IsMatch(productId))
        {
            return TypedResults.NotFound();
        }
        CatalogClient.Picture picture;
        try
        {
            picture = await catalog.GetPictureAsync(productId, http.Request.Headers.IfNoneMatch.ToString(), http.RequestAborted);
        }
        catch (ServiceUnavailableException)
        {
            return TypedResults.StatusCode(StatusCodes.Status503ServiceUnavailable);
        }
        if (picture.ETag is not null)
        {
            http.Response.Headers.ETag = picture.ETag;
        }
        http.Response.Headers.CacheControl = "public, max-age=3600";
        // The picture is SVG from another service: as a document of this origin it may do nothing but draw.
        http.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; sandbox";
        http.Response.Headers.XContentTypeOptions = "nosniff";
        return picture.Status switch
        {
            StatusCodes.Status200OK => TypedResults.File(picture.Body, picture.ContentType ?? "image/svg+xml"),
            StatusCodes.Status304NotModified => TypedResults.StatusCode(StatusCodes.Status304NotModified),
            _ => TypedResults.NotFound(),
        };
    }

    private static async Task<RedirectHttpResult> ChangeAsync(BasketForm form, string doneNotice, Func<Task<ChangeResult<DaprShop.Contracts.BasketDto>>> change)
    {
        if (form.ProductId is null || !IdPattern().IsMatch(form.ProductId) || form.Quantity is < 0 or > 99)
        {
            return TypedResults.LocalRedirect(Notices.Redirect(form.ReturnUrl, "refused"));
        }
        try
        {
            var result = await change();
            var notice = result.Succeeded ? doneNotice : result.Status == StatusCodes.Status422UnprocessableEntity ? "unknown-product" : "refused";
            return TypedResults.LocalRedirect(Notices.Redirect(form.ReturnUrl, notice));
        }
        catch (ServiceUnavailableException)
        {
            return TypedResults.LocalRedirect(Notices.Redirect(form.ReturnUrl, "basket-unavailable"));
        }
    }
}
