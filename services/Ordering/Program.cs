using DaprShop.Ordering;
using DaprShop.Ordering.Orders;
using DaprShop.Ordering.Payments;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddOrdering();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapOrdersApi();
app.MapPaymentWebhookApi();
app.Run();
