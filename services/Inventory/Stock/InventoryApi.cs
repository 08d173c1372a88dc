using System.Text.RegularExpressions;
using Dapr.Actors.Client;
using DaprShop.Contracts;
using DaprShop.Inventory.Reservations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace DaprShop.Inventory.Stock;

/// <summary><c>POST /api/v1/inventory/{productId}/restock</c> (back office).</summary>
public sealed record Restock(int Quantity);

public static partial class InventoryApi
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    internal static partial Regex IdPattern();

    public static IEndpointRouteBuilder MapInventoryApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1/inventory").WithTags("Inventory");
        api.MapGet("/{productId}", GetStock).WithName("GetStock");
        api.MapPost("/{productId}/restock", RestockProduct).WithName("RestockProduct");

        // Called by ordering's checkout saga through Dapr service invocation; not part of the public OpenAPI surface.
        var internalApi = app.MapGroup("/internal/inventory/reservations").ExcludeFromDescription();
        internalApi.MapPost("/", Reserve);
        internalApi.MapGet("/{reservationId}", GetReservation);
        internalApi.MapPost("/{reservationId}/confirm", Confirm);
        internalApi.MapPost("/{reservationId}/release", Release);
        internalApi.MapPost("/{reservationId}/return", Return);
        return app;
    }

    public static async Task<Results<Ok<StockDto>, ValidationProblem, NotFound<ProblemDetails>>> GetStock(string productId, IActorProxyFactory actors)
    {
        if (InvalidId("productId", productId) is { } invalid)
        {
            return invalid;
        }
        return await Stock(actors, productId).GetAsync() is { } stock ? TypedResults.Ok(stock) : UnknownProduct(productId);
    }

    public static async Task<Results<Ok<StockDto>, ValidationProblem>> RestockProduct(string productId, Restock restock, IActorProxyFactory actors)
    {
        if (InvalidId("productId", productId) is { } invalid)
        {
            return invalid;
        }
        if (restock.Quantity is < 1 or > Reservations.Reservation.MaxQuantity)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["quantity"] = [$"Must be between 1 and {Reservations.Reservation.MaxQuantity}."] });
        }
        return TypedResults.Ok(await Stock(actors, productId).RestockAsync(restock.Quantity));
    }

    public static async Task<Results<Ok<ReservationResult>, ValidationProblem, Conflict<ProblemDetails>>> Reserve(ReserveStock request, IActorProxyFactory actors)
    {
        if (Validate(request) is { } invalid)
        {
            return invalid;
        }
        var answer = await Reservation(actors, request.ReservationId).ReserveAsync(new(request.Lines, request.ExpiresInSeconds));
        return answer.Result is { } result ? TypedResults.Ok(result) : Conflict(answer.Conflict);
    }

    public static async Task<Results<Ok<ReservationState>, ValidationProblem, NotFound<ProblemDetails>>> GetReservation(string reservationId, IActorProxyFactory actors)
    {
        if (InvalidId("reservationId", reservationId) is { } invalid)
        {
            return invalid;
        }
        return await Reservation(actors, reservationId).GetAsync() is { } state ? TypedResults.Ok(state) : UnknownReservation(reservationId);
    }

    public static async Task<Results<NoContent, ValidationProblem, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> Confirm(string reservationId, IActorProxyFactory actors)
    {
        if (InvalidId("reservationId", reservationId) is { } invalid)
        {
            return invalid;
        }
        var answer = await Reservation(actors, reservationId).ConfirmAsync();
        return !answer.Found ? UnknownReservation(reservationId) : answer.Conflict is { } conflict ? Conflict(conflict) : TypedResults.NoContent();
    }

    /// <summary>Idempotent; an unknown id is released too (a tombstone), see <see cref="Reservations.Reservation"/>.</summary>
    public static async Task<Results<NoContent, ValidationProblem, Conflict<ProblemDetails>>> Release(string reservationId, IActorProxyFactory actors)
    {
        if (InvalidId("reservationId", reservationId) is { } invalid)
        {
            return invalid;
        }
        var answer = await Reservation(actors, reservationId).ReleaseAsync();
        return answer.Conflict is { } conflict ? Conflict(conflict) : TypedResults.NoContent();
    }

    /// <summary>Idempotent: a confirmed reservation's units go back on hand once; an open or unknown one is released.</summary>
    public static async Task<Results<NoContent, ValidationProblem>> Return(string reservationId, IActorProxyFactory actors)
    {
        if (InvalidId("reservationId", reservationId) is { } invalid)
        {
            return invalid;
        }
        await Reservation(actors, reservationId).ReturnAsync();
        return TypedResults.NoContent();
    }

    internal static ValidationProblem? Validate(ReserveStock request)
    {
        var errors = new Dictionary<string, string[]>();
        if (request.ReservationId is null || !IdPattern().IsMatch(request.ReservationId))
        {
            errors["reservationId"] = [IdRule];
        }
        if (request.Lines is null || request.Lines.Count is 0 or > Reservations.Reservation.MaxLines)
        {
            errors["lines"] = [$"Between 1 and {Reservations.Reservation.MaxLines} lines."];
        }
        else
        {
            for (var i = 0; i < request.Lines.Count; i++)
            {
                var line = request.Lines[i];
                if (line?.ProductId is null || !IdPattern().IsMatch(line.ProductId))
                {
                    errors[$"lines[{i}].productId"] = [IdRule];
                }
                if (line is null || line.Quantity is < 1 or > Reservations.Reservation.MaxQuantity)
                {
                    errors[$"lines[{i}].quantity"] = [$"Must be between 1 and {Reservations.Reservation.MaxQuantity}."];
                }
            }
        }
        if (request.ExpiresInSeconds is < 1 or > Reservations.Reservation.MaxExpiresInSeconds)
        {
            errors["expiresInSeconds"] = [$"Must be between 1 and {Reservations.Reservation.MaxExpiresInSeconds}."];
        }
        return errors.Count == 0 ? null : TypedResults.ValidationProblem(errors);
    }

    private const string IdRule = "Must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.";

    private static ValidationProblem? InvalidId(string field, string value) =>
        IdPattern().IsMatch(value) ? null : TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [IdRule] });

    private static IStockActor Stock(IActorProxyFactory actors, string productId) => StockActorClient.For(actors, productId);

    private static IReservationActor Reservation(IActorProxyFactory actors, string reservationId) => ReservationActorClient.For(actors, reservationId);

    private static NotFound<ProblemDetails> UnknownProduct(string productId) =>
        TypedResults.NotFound(new ProblemDetails { Status = 404, Title = "Unknown product", Detail = $"No stock is kept for product '{productId}'." });

    private static NotFound<ProblemDetails> UnknownReservation(string reservationId) =>
        TypedResults.NotFound(new ProblemDetails { Status = 404, Title = "Unknown reservation", Detail = $"There is no reservation '{reservationId}'." });

    private static Conflict<ProblemDetails> Conflict(string? detail) =>
        TypedResults.Conflict(new ProblemDetails { Status = 409, Title = "Reservation conflict", Detail = detail });
}
