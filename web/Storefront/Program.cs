using DaprShop.Storefront;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddStorefront();

var app = builder.Build();
app.MapDefaultEndpoints();
app.UseStorefront();
app.MapStorefront();
app.Run();
