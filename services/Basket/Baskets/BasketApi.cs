using System.Net;
using System.Text.RegularExpressions;
using Dapr.Actors;
using Dapr.Actors.Client;
using DaprShop.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace DaprShop.Basket.Baskets;

/// <summary><c>POST /api/v1/baskets/{shopperId}/items</c>.</summary>
public sealed record AddBasketItem(string? ProductId, int Quantity);

/// <summary><c>PUT /api/v1/baskets/{shopperId}/items/{productId}</c>: 0 removes the line.</summary>
public sealed record SetBasketItemQuantity(int Quantity);

public static partial class BasketApi
{
    /// <summary>The named HttpClient that reaches the catalog through Dapr service invocation.</summary>
    public const string CatalogClient = "catalog";

    // Shopper and product ids become actor ids and URL segments: keep them to a safe, bounded alphabet.
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    internal static partial Regex IdPattern();

    public static IEndpointRouteBuilder MapBasketApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/baskets/{shopperId}").WithTags("Baskets");
        api.MapGet("/", GetBasket).WithName("GetBasket");
        api.MapPost("/items", AddItem).WithName("AddBasketItem");
        api.MapPut("/items/{productId}", SetQuantity).WithName("SetBasketItemQuantity");
        api.MapDelete("/items/{productId}", RemoveItem).WithName("RemoveBasketItem");
        api.MapDelete("/", ClearBasket).WithName("ClearBasket");
        api.MapPost("/merge/{anonymousShopperId}", Merge).WithName("MergeBasket");
        return app;
    }

    public static async Task<Results<Ok<BasketDto>, ValidationProblem>> GetBasket(string shopperId, IActorProxyFactory actors)
    {
        if ((InvalidId("shopperId", shopperId)) is { } invalid)
        {
            return invalid;
        }
        return TypedResults.Ok(await Basket(actors, shopperId).GetAsync());
    }

    public static async Task<Results<Ok<BasketDto>, ValidationProblem, ProblemHttpResult>> AddItem(
        string shopperId, AddBasketItem item, IActorProxyFactory actors, IHttpClientFactory http, KnownProducts known, CancellationToken cancellationToken)
    {
        if ((InvalidId("shopperId", shopperId) ?? InvalidId("productId", item.ProductId) ?? InvalidQuantity(item.Quantity, min: 1)) is { } invalid)
        {
            return invalid;
        }
        var productId = item.ProductId!;
        // Remembered only when the catalog answers (an absolute expiry): a product deleted from the catalog is asked about again.
        if (!known.Contains(productId))
        {
            switch (await LookUpProductAsync(http.CreateClient(CatalogClient), productId, cancellationToken))
            {
                case ProductLookup.Unknown:
                    return TypedResults.Problem(new HttpValidationProblemDetails(new Dictionary<string, string[]>
                    {
                        ["productId"] = [$"There is no product '{productId}' in the catalog."],
                    })
                    { Status = StatusCodes.Status422UnprocessableEntity, Title = "Unknown product" });
                case ProductLookup.Unavailable:
                    return CatalogUnavailable();
            }
            known.Remember(productId);
        }
        var outcome = await Basket(actors, shopperId).AddAsync(new(productId, item.Quantity));
        return outcome.Violation == BasketViolation.None ? TypedResults.Ok(outcome.Basket) : Refused(outcome.Violation);
    }

    public static async Task<Results<Ok<BasketDto>, ValidationProblem, NotFound<ProblemDetails>>> SetQuantity(
        string shopperId, string productId, SetBasketItemQuantity change, IActorProxyFactory actors)
    {
        if ((InvalidId("shopperId", shopperId) ?? InvalidId("productId", productId) ?? InvalidQuantity(change.Quantity, min: 0)) is { } invalid)
        {
            return invalid;
        }
        var outcome = await Basket(actors, shopperId).SetQuantityAsync(new(productId, change.Quantity));
        return outcome.Violation switch
        {
            BasketViolation.None => TypedResults.Ok(outcome.Basket),
            BasketViolation.NotInBasket => NotInBasket(productId),
            var violation => Refused(violation),
        };
    }

    /// <summary>Idempotent: removing a product that is not in the basket answers the basket as it is.</summary>
    public static async Task<Results<Ok<BasketDto>, ValidationProblem>> RemoveItem(string shopperId, string productId, IActorProxyFactory actors)
    {
        if ((InvalidId("shopperId", shopperId) ?? InvalidId("productId", productId)) is { } invalid)
        {
            return invalid;
        }
        return TypedResults.Ok(await Basket(actors, shopperId).RemoveAsync(productId));
    }

    public static async Task<Results<Ok<BasketDto>, ValidationProblem>> ClearBasket(string shopperId, IActorProxyFactory actors)
    {
        if ((InvalidId("shopperId", shopperId)) is { } invalid)
        {
            return invalid;
        }
        return TypedResults.Ok(await Basket(actors, shopperId).ClearAsync());
    }

    /// <summary>
    /// At sign-in: the anonymous basket's lines are added to the shopper's, then the anonymous basket is cleared. Adding
    /// first means a failure in between never loses a line; the shopper's actor remembers which version of the
    /// anonymous basket it took in, so a retry does not count the lines twice.
    /// </summary>
    public static async Task<Results<Ok<BasketDto>, ValidationProblem>> Merge(string shopperId, string anonymousShopperId, IActorProxyFactory actors)
    {
        if ((InvalidId("shopperId", shopperId) ?? InvalidId("anonymousShopperId", anonymousShopperId)) is { } invalid)
        {
            return invalid;
        }
        if (shopperId == anonymousShopperId)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["anonymousShopperId"] = ["A basket cannot be merged into itself."],
            });
        }
        var anonymous = Basket(actors, anonymousShopperId);
        var source = await anonymous.GetAsync();
        var merged = await Basket(actors, shopperId).MergeAsync(source);
        await anonymous.ClearAsync();
        return TypedResults.Ok(merged);
    }

    internal enum ProductLookup { Found, Unknown, Unavailable }

    /// <summary>Asks the catalog (through Dapr) whether the product exists. The basket never takes a price from it.</summary>
    internal static async Task<ProductLookup> LookUpProductAsync(HttpClient catalog, string productId, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await catalog.GetAsync($"api/v1/catalog/products/{Uri.EscapeDataString(productId)}", cancellationToken);
            return response.StatusCode switch
            {
                _ when response.IsSuccessStatusCode => ProductLookup.Found,
                HttpStatusCode.NotFound => ProductLookup.Unknown,
                _ => ProductLookup.Unavailable,
            };
        }
        catch (HttpRequestException)
        {
            return ProductLookup.Unavailable;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ProductLookup.Unavailable;
        }
    }

    private static IBasketActor Basket(IActorProxyFactory actors, string shopperId) => BasketActorClient.For(actors, shopperId);

    private static ValidationProblem? InvalidId(string field, string? value) =>
        value is not null && IdPattern().IsMatch(value)
            ? null
            : TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                [field] = ["Must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit."],
            });

    private static ValidationProblem? InvalidQuantity(int quantity, int min) =>
        quantity >= min && quantity <= ShopperBasket.MaxQuantity
            ? null
            : TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["quantity"] = [$"Must be between {min} and {ShopperBasket.MaxQuantity}."],
            });

    private static ValidationProblem Refused(BasketViolation violation) => violation switch
    {
        BasketViolation.TooManyLines => TypedResults.ValidationProblem(new Dictionary<string, string[]>
        {
            ["productId"] = [$"A basket holds at most {ShopperBasket.MaxLines} different products."],
        }),
        _ => TypedResults.ValidationProblem(new Dictionary<string, string[]>
        {
            ["quantity"] = [$"A line holds at most {ShopperBasket.MaxQuantity} units."],
        }),
    };

    private static NotFound<ProblemDetails> NotInBasket(string productId) =>
        TypedResults.NotFound(new ProblemDetails
        {
            Status = StatusCodes.Status404NotFound,
            Title = "Not in the basket",
            Detail = $"Product '{productId}' is not in this basket.",
        });

    private static ProblemHttpResult CatalogUnavailable() =>
        TypedResults.Problem(
            title: "Catalog unavailable",
            detail: "The catalog could not be reached to check the product; try again shortly.",
            statusCode: StatusCodes.Status503ServiceUnavailable);
}
