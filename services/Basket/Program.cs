using DaprShop.Basket.Baskets;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddBasket();
builder.Services.AddOpenApi();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapActorsHandlers();
app.MapBasketApi();
app.MapBasketSubscriptions();

app.Run();
