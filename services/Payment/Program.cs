using DaprShop.Payment;
using DaprShop.Payment.Payments;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddPaymentProvider();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapPaymentsApi();
app.MapActorsHandlers();

app.Run();
