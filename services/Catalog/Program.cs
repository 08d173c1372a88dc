using DaprShop.Catalog;
using DaprShop.Catalog.Apis;
using DaprShop.Catalog.Events;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddCatalog();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapCatalogApi();
app.MapBackOfficeApi();
app.MapInternalCatalogApi();
app.MapCatalogSubscriptions();
app.Run();
