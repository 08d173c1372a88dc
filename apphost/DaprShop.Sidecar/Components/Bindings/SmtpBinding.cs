using System.Globalization;
using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace DaprShop.Sidecar.Components.Bindings;

/// <summary>
/// <c>bindings.smtp</c>: operation <c>create</c> sends the request's data as an HTML mail, as components-contrib's
/// SMTP binding does. Metadata: <c>host</c> and <c>port</c> (required), <c>user</c> and <c>password</c> (both or
/// neither; authenticates when set), <c>skipTLSVerify</c>, and defaults for <c>emailFrom</c>, <c>emailTo</c>,
/// <c>emailCC</c>, <c>emailBCC</c> (several addresses separated by <c>;</c>), <c>subject</c> and <c>priority</c>
/// (1 highest .. 5 lowest, default 3, sent as <c>X-Priority</c>), each of which a request's metadata overrides.
/// TLS as daprd's mailer: implicit on port 465, STARTTLS when the server offers it, plain otherwise.
/// </summary>
public sealed class SmtpBinding : IOutputBinding
{
    private const int DefaultPriority = 3;
    private const char Separator = ';';

    private readonly string _host;
    private readonly int _port;
    private readonly string? _user;
    private readonly string? _password;
    private readonly bool _skipTlsVerify;
    private readonly Envelope _defaults;

    public SmtpBinding(ComponentContext context)
    {
        _host = context.Required("host");
        _port = context.Int("port", 0);
        if (_port is < 1 or > 65535)
        {
            throw context.Error("port", _port == 0 ? "is required" : "must be between 1 and 65535");
        }
        _user = context.Get("user");
        _password = context.Get("password");
        if (_user is null != _password is null)
        {
            throw context.Error(_user is null ? "user" : "password", "is required with the other: set both user and password, or neither");
        }
        _skipTlsVerify = context.Bool("skipTLSVerify", false);
        if (_skipTlsVerify)
        {
            context.Logger.LogWarning("Component {Name}: skipTLSVerify is on, the SMTP server's certificate is not checked", context.Name);
        }
        int priority;
        try
        {
            priority = ParsePriority(context.Get("priority"));
        }
        catch (BindingRequestException ex)
        {
            throw context.Error("priority", ex.Message);
        }
        _defaults = new Envelope(context.Get("emailFrom"), context.Get("emailTo"), context.Get("emailCC"), context.Get("emailBCC"), context.Get("subject"), priority);
    }

    public IReadOnlyList<string> Capabilities { get; } = [];

    public IReadOnlyList<string> Operations { get; } = ["create"];

    public async Task<BindingResponse> InvokeAsync(BindingRequest request, CancellationToken cancellationToken)
    {
        var message = Compose(_defaults.With(request.Metadata), BindingData.Unquote(request.Data));
        using var client = new SmtpClient();
        if (_skipTlsVerify)
        {
            client.ServerCertificateValidationCallback = (_, _, _, _) => true;
        }
        try
        {
            await client.ConnectAsync(_host, _port, SecureSocketOptions.Auto, cancellationToken);
            if (_user is not null)
            {
                await client.AuthenticateAsync(_user, _password!, cancellationToken);
            }
            await client.SendAsync(message, cancellationToken);
            await client.DisconnectAsync(quit: true, cancellationToken);
        }
        catch (Exception ex) when (ex is SmtpCommandException or SmtpProtocolException or AuthenticationException or System.Net.Sockets.SocketException or IOException)
        {
            throw new InvalidOperationException($"error from smtp binding, sending email failed: {ex.Message}", ex);
        }
        return new BindingResponse(null, new Dictionary<string, string>());
    }

    private static MimeMessage Compose(Envelope e, byte[] body)
    {
        var message = new MimeMessage();
        message.From.Add(Address(e.From ?? throw Missing("emailFrom")));
        message.To.AddRange(Addresses(e.To ?? throw Missing("emailTo")));
        if (e.Cc is not null)
        {
            message.Cc.AddRange(Addresses(e.Cc));
        }
        if (e.Bcc is not null)
        {
            message.Bcc.AddRange(Addresses(e.Bcc));
        }
        message.Subject = e.Subject ?? throw Missing("subject");
        message.Headers.Add("X-Priority", e.Priority.ToString(CultureInfo.InvariantCulture));
        message.Body = new TextPart("html") { Text = Encoding.UTF8.GetString(body) };
        return message;
    }

    private static BindingRequestException Missing(string field) =>
        new($"smtp binding error: {field} property not supplied in configuration- or request-metadata");

    private static IEnumerable<MailboxAddress> Addresses(string list) =>
        list.Split(Separator, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(Address);

    private static MailboxAddress Address(string address) =>
        MailboxAddress.TryParse(address, out var parsed) ? parsed : throw new BindingRequestException($"smtp binding error: '{address}' is not an e-mail address");

    private static int ParsePriority(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return DefaultPriority;
        }
        return int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) && p is >= 1 and <= 5
            ? p
            : throw new BindingRequestException($"smtp binding error: priority value must be between 1 (highest) and 5 (lowest), not '{value}'");
    }

    /// <summary>The addressing of one mail: the component's defaults, overridden field by field by a request.</summary>
    private sealed record Envelope(string? From, string? To, string? Cc, string? Bcc, string? Subject, int Priority)
    {
        public Envelope With(IReadOnlyDictionary<string, string> request) => new(
            Pick(request, "emailFrom") ?? From,
            Pick(request, "emailTo") ?? To,
            Pick(request, "emailCC") ?? Cc,
            Pick(request, "emailBCC") ?? Bcc,
            Pick(request, "subject") ?? Subject,
            Pick(request, "priority") is { } p ? ParsePriority(p) : Priority);

        private static string? Pick(IReadOnlyDictionary<string, string> request, string key) =>
            request.TryGetValue(key, out var v) && v.Length > 0 ? v : null;
    }
}
