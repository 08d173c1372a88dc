using DaprShop.MailSink;

var builder = WebApplication.CreateBuilder(args);
builder.AddMailSink();

var app = builder.Build();
app.MapGet("/health", () => Results.Ok("healthy"));
app.MapMailSinkApi();
app.Run();
