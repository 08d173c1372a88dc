using DaprShop.Catalog.Products;
using DaprShop.Catalog.Store;
using DaprShop.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace DaprShop.Catalog.Apis;

/// <summary>
/// Back-office changes. Every answer carries the product's new version as its ETag; sending it back in
/// <c>If-Match</c> turns a concurrent edit into 412 instead of a silent overwrite.
/// </summary>
public static class BackOfficeApi
{
    public static RouteGroupBuilder MapBackOfficeApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1/catalog/products").WithTags("Back office");
        api.MapPost("/", Create).WithName("CreateProduct");
        api.MapPut("/{productId}", Update).WithName("UpdateProduct");
        api.MapPut("/{productId}/price", ChangePrice).WithName("ChangeProductPrice");
        api.MapDelete("/{productId}", Delete).WithName("DeleteProduct");
        return api;
    }

    internal static async Task<Results<Created<ProductDto>, ValidationProblem>> Create(
        ProductInput input, HttpContext http, ProductCommands commands, IOptions<CatalogOptions> options, CancellationToken cancellationToken)
    {
        var errors = ProductRules.Validate(input, options.Value.Currency, out var valid);
        if (valid is null)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var product = await commands.CreateAsync(valid, cancellationToken);
        http.Response.Headers.ETag = product.ETag;
        return TypedResults.Created($"/api/v1/catalog/products/{product.Id}", product.ToDto());
    }

    internal static async Task<Results<Ok<ProductDto>, ValidationProblem, NotFound, ProblemHttpResult>> Update(
        string productId, ProductInput input, [FromHeader(Name = "If-Match")] string? ifMatch, HttpContext http, ProductCommands commands,
        IOptions<CatalogOptions> options, CancellationToken cancellationToken)
    {
        var errors = ProductRules.Validate(input, options.Value.Currency, out var valid);
        if (!TryIfMatch(ifMatch, errors, out var version) || valid is null)
        {
            return TypedResults.ValidationProblem(errors);
        }
        return Answer(await commands.UpdateAsync(productId, valid, version, cancellationToken), http);
    }

    internal static async Task<Results<Ok<ProductDto>, ValidationProblem, NotFound, ProblemHttpResult>> ChangePrice(
        string productId, PriceInput input, [FromHeader(Name = "If-Match")] string? ifMatch, HttpContext http, ProductCommands commands,
        IOptions<CatalogOptions> options, CancellationToken cancellationToken)
    {
        var errors = ProductRules.ValidatePrice(input, options.Value.Currency, "", out var price);
        if (!TryIfMatch(ifMatch, errors, out var version) || errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        return Answer(await commands.ChangePriceAsync(productId, price, version, cancellationToken), http);
    }

    internal static async Task<Results<NoContent, ValidationProblem, NotFound, ProblemHttpResult>> Delete(
        string productId, [FromHeader(Name = "If-Match")] string? ifMatch, ProductCommands commands, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (!TryIfMatch(ifMatch, errors, out var version))
        {
            return TypedResults.ValidationProblem(errors);
        }
        var result = await commands.DeleteAsync(productId, version, cancellationToken);
        return result.Outcome switch
        {
            WriteOutcome.Done => TypedResults.NoContent(),
            WriteOutcome.NotFound => TypedResults.NotFound(),
            _ => Refused(result.Outcome),
        };
    }

    private static Results<Ok<ProductDto>, ValidationProblem, NotFound, ProblemHttpResult> Answer(WriteResult result, HttpContext http)
    {
        switch (result.Outcome)
        {
            case WriteOutcome.Done:
                http.Response.Headers.ETag = result.Product!.ETag;
                return TypedResults.Ok(result.Product.ToDto());
            case WriteOutcome.NotFound:
                return TypedResults.NotFound();
            default:
                return Refused(result.Outcome);
        }
    }

    private static ProblemHttpResult Refused(WriteOutcome outcome) => outcome == WriteOutcome.PreconditionFailed
        ? TypedResults.Problem("The product changed since the version in If-Match; read it again and reapply the change.", statusCode: StatusCodes.Status412PreconditionFailed, title: "Precondition failed")
        : TypedResults.Problem("The catalog kept changing concurrently; try again.", statusCode: StatusCodes.Status409Conflict, title: "Conflict");

    /// <summary><c>If-Match</c> is optional; when sent it must be one of our ETags (<c>"3"</c>) or <c>*</c>.</summary>
    private static bool TryIfMatch(string? header, Dictionary<string, string[]> errors, out long? version)
    {
        version = null;
        if (string.IsNullOrWhiteSpace(header) || header.Trim() == "*")
        {
            return true;
        }
        version = ProductCommands.ParseIfMatch(header.Trim());
        if (version is null)
        {
            errors["If-Match"] = ["must be an ETag this API returned, such as \"3\""];
            return false;
        }
        return true;
    }
}
