using DaprShop.Notifications;
using DaprShop.Notifications.OrderEvents;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNotifications();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapOrderEventsApi();

app.Run();
