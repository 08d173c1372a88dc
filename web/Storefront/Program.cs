using DaprShop.Storefront;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddStorefront();
// Blazor's script comes from the static web assets manifest when run from build output in any environment (the
// AppHost, tests); a published app has it in wwwroot and no manifest.
builder.WebHost.UseStaticWebAssets();

var app = builder.Build();
app.MapDefaultEndpoints();
app.UseStorefront();
app.MapStorefront();
app.Run();
