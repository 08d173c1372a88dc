using DaprShop.Inventory.Stock;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddInventory();
builder.Services.AddOpenApi();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapActorsHandlers();
app.MapInventoryApi();

app.Run();
