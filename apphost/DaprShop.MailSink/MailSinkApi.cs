using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace DaprShop.MailSink;

public static class MailSinkApi
{
    /// <summary>The options, validated on start, and the SMTP server running for the app's lifetime.</summary>
    public static WebApplicationBuilder AddMailSink(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<MailSinkOptions>().BindConfiguration("MailSink").ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<MailSinkOptions>>().Value;
            return MailSinkServer.Start(options.SmtpPort, options.Directory);
        });
        builder.Services.AddHostedService<StartSink>();
        return builder;
    }

    /// <summary><c>GET /messages</c> (newest first) and <c>GET /messages/{id}</c> (the .eml as received).</summary>
    public static RouteGroupBuilder MapMailSinkApi(this IEndpointRouteBuilder app)
    {
        var messages = app.MapGroup("/messages");
        messages.MapGet("/", (MailSinkServer sink) => TypedResults.Ok(sink.Received.OrderByDescending(m => m.ReceivedAt).ToList()));
        messages.MapGet("/{id}", Results<PhysicalFileHttpResult, NotFound> (string id, MailSinkServer sink) =>
            sink.Received.FirstOrDefault(m => m.Id == id) is { } mail ? TypedResults.PhysicalFile(mail.File, "message/rfc822") : TypedResults.NotFound());
        return messages;
    }

    /// <summary>Resolves the sink at start (so the SMTP port listens before the app reports healthy) and stops it at the end.</summary>
    private sealed class StartSink(MailSinkServer sink, ILogger<StartSink> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            logger.LogInformation("Mail sink: SMTP on port {Port}, mail kept in {Directory}", sink.Port, sink.DirectoryPath);
            return Task.CompletedTask;
        }

        public async Task StopAsync(CancellationToken cancellationToken) => await sink.DisposeAsync();
    }
}
