using System.Buffers;
using System.Collections.Concurrent;
using SmtpServer;
using SmtpServer.Authentication;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace DaprShop.MailSink;

/// <summary>A mail as the sink received it: the envelope, the subject, and the .eml file it is kept in.</summary>
public sealed record ReceivedMail(string Id, string From, IReadOnlyList<string> To, string Subject, string? AuthenticatedUser, DateTimeOffset ReceivedAt, string File);

/// <summary>
/// An SMTP server that accepts every mail (and every login: it is for development) and writes each one, exactly as
/// received, to <c>{directory}/{id}.eml</c>. The write completes before the server answers 250, so a mail the sender
/// saw accepted is on disk.
/// </summary>
public sealed class MailSinkServer : IAsyncDisposable
{
    private readonly SmtpServer.SmtpServer _server;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentQueue<ReceivedMail> _received = new();
    private Task _running = Task.CompletedTask;

    private MailSinkServer(int port, string directory)
    {
        Directory.CreateDirectory(directory);
        DirectoryPath = Path.GetFullPath(directory);
        Port = port;
        var options = new SmtpServerOptionsBuilder()
            .ServerName("daprshop-mailsink")
            .Endpoint(e => e.Port(port).AllowUnsecureAuthentication(true).AuthenticationRequired(false))
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new Store(this));
        services.Add(new AnyLogin());
        _server = new SmtpServer.SmtpServer(options, services);
    }

    public int Port { get; }
    public string DirectoryPath { get; }
    public IReadOnlyCollection<ReceivedMail> Received => _received;

    public static MailSinkServer Start(int port, string directory)
    {
        var sink = new MailSinkServer(port, directory);
        sink._running = sink._server.StartAsync(sink._stopping.Token);
        return sink;
    }

    public async ValueTask DisposeAsync()
    {
        _server.Shutdown();
        await _stopping.CancelAsync();
        try
        {
            await _running;
        }
        catch (OperationCanceledException)
        {
        }
        _stopping.Dispose();
    }

    private async Task<ReceivedMail> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
    {
        var id = $"{DateTimeOffset.UtcNow:yyyyMMddHHmmssfff}-{Guid.NewGuid():N}";
        var file = Path.Combine(DirectoryPath, id + ".eml");
        await using (var stream = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.WriteThrough))
        {
            foreach (var segment in buffer)
            {
                await stream.WriteAsync(segment, cancellationToken);
            }
        }
        var mail = new ReceivedMail(id, Address(transaction.From), [.. transaction.To.Select(Address)], SubjectOf(buffer),
            context.Properties.TryGetValue(AnyLogin.UserProperty, out var user) ? user as string : null, DateTimeOffset.UtcNow, file);
        _received.Enqueue(mail);
        return mail;
    }

    private static string Address(IMailbox m) => $"{m.User}@{m.Host}";

    /// <summary>The Subject header as written (the sink does not decode encoded words: the file is the record).</summary>
    private static string SubjectOf(ReadOnlySequence<byte> buffer)
    {
        using var reader = new StringReader(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        while (reader.ReadLine() is { Length: > 0 } line)
        {
            if (line.StartsWith("Subject:", StringComparison.OrdinalIgnoreCase))
            {
                return line["Subject:".Length..].Trim();
            }
        }
        return "";
    }

    private sealed class Store(MailSinkServer sink) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            await sink.SaveAsync(context, transaction, buffer, cancellationToken);
            return SmtpResponse.Ok;
        }
    }

    private sealed class AnyLogin : UserAuthenticator
    {
        public const string UserProperty = "daprshop.user";

        public override Task<bool> AuthenticateAsync(ISessionContext context, string user, string password, CancellationToken cancellationToken)
        {
            context.Properties[UserProperty] = user;
            return Task.FromResult(true);
        }
    }
}
