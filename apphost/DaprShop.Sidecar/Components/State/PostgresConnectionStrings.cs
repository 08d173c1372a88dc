using System.Text;
using Npgsql;

namespace DaprShop.Sidecar.Components.State;

/// <summary>
/// daprd (pgx) takes libpq connection strings: <c>host=... user=... password=... dbname=...</c> or
/// <c>postgres://user:pass@host:port/db?sslmode=disable</c>. Npgsql wants <c>Host=..;Username=..</c>; a string in
/// Npgsql's own form (with <c>;</c>) is accepted as it is.
/// </summary>
internal static class PostgresConnectionStrings
{
    public static NpgsqlConnectionStringBuilder Parse(string value)
    {
        value = value.Trim();
        if (value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return FromPairs(FromUri(value));
        }
        if (value.Contains(';', StringComparison.Ordinal))
        {
            try
            {
                return new NpgsqlConnectionStringBuilder(value);
            }
            catch (ArgumentException ex)
            {
                throw new FormatException($"is not a valid connection string: {ex.Message}");
            }
        }
        return FromPairs(FromKeywords(value));
    }

    private static List<(string Key, string Value)> FromKeywords(string text)
    {
        var pairs = new List<(string, string)>();
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }
            if (i >= text.Length)
            {
                break;
            }
            var eq = text.IndexOf('=', i);
            if (eq < 0)
            {
                throw new FormatException($"is not a valid connection string: expected key=value near '{text[i..]}'");
            }
            var key = text[i..eq].Trim();
            i = eq + 1;
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }
            var sb = new StringBuilder();
            if (i < text.Length && text[i] == '\'')
            {
                i++;
                while (i < text.Length && text[i] != '\'')
                {
                    if (text[i] == '\\' && i + 1 < text.Length)
                    {
                        i++;
                    }
                    sb.Append(text[i++]);
                }
                if (i >= text.Length)
                {
                    throw new FormatException("is not a valid connection string: unterminated quoted value");
                }
                i++;
            }
            else
            {
                while (i < text.Length && !char.IsWhiteSpace(text[i]))
                {
                    if (text[i] == '\\' && i + 1 < text.Length)
                    {
                        i++;
                    }
                    sb.Append(text[i++]);
                }
            }
            pairs.Add((key, sb.ToString()));
        }
        return pairs;
    }

    private static List<(string Key, string Value)> FromUri(string text)
    {
        var pairs = new List<(string, string)>();
        var rest = text[(text.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var q = rest.IndexOf('?', StringComparison.Ordinal);
        var query = q < 0 ? "" : rest[(q + 1)..];
        rest = q < 0 ? rest : rest[..q];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash < 0 ? rest : rest[..slash];
        if (slash >= 0 && slash + 1 < rest.Length)
        {
            pairs.Add(("dbname", Uri.UnescapeDataString(rest[(slash + 1)..])));
        }
        var at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            var user = authority[..at];
            var colon = user.IndexOf(':', StringComparison.Ordinal);
            pairs.Add(("user", Uri.UnescapeDataString(colon < 0 ? user : user[..colon])));
            if (colon >= 0)
            {
                pairs.Add(("password", Uri.UnescapeDataString(user[(colon + 1)..])));
            }
            authority = authority[(at + 1)..];
        }
        if (authority.Length > 0)
        {
            // host:port, or a bracketed IPv6 address
            var portAt = authority.LastIndexOf(':');
            if (portAt > 0 && !authority[portAt..].Contains(']', StringComparison.Ordinal))
            {
                pairs.Add(("host", authority[..portAt].Trim('[', ']')));
                pairs.Add(("port", authority[(portAt + 1)..]));
            }
            else
            {
                pairs.Add(("host", authority.Trim('[', ']')));
            }
        }
        foreach (var part in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            pairs.Add(eq < 0 ? (part, "") : (Uri.UnescapeDataString(part[..eq]), Uri.UnescapeDataString(part[(eq + 1)..])));
        }
        return pairs;
    }

    private static NpgsqlConnectionStringBuilder FromPairs(List<(string Key, string Value)> pairs)
    {
        var b = new NpgsqlConnectionStringBuilder();
        foreach (var (key, value) in pairs)
        {
            switch (key.ToLowerInvariant())
            {
                case "host":
                case "hostaddr":
                    b.Host = value;
                    break;
                case "port":
                    b.Port = int.TryParse(value, out var port) ? port : throw new FormatException($"has an invalid port '{value}'");
                    break;
                case "dbname":
                case "database":
                    b.Database = value;
                    break;
                case "user":
                    b.Username = value;
                    break;
                case "password":
                    b.Password = value;
                    break;
                case "sslmode":
                    b.SslMode = value.ToLowerInvariant() switch
                    {
                        "disable" => SslMode.Disable,
                        "allow" => SslMode.Allow,
                        "prefer" => SslMode.Prefer,
                        "require" => SslMode.Require,
                        "verify-ca" => SslMode.VerifyCA,
                        "verify-full" => SslMode.VerifyFull,
                        _ => throw new FormatException($"has an unknown sslmode '{value}'"),
                    };
                    break;
                case "sslrootcert":
                    b.RootCertificate = value;
                    break;
                case "sslcert":
                    b.SslCertificate = value;
                    break;
                case "sslkey":
                    b.SslKey = value;
                    break;
                case "connect_timeout":
                    b.Timeout = int.TryParse(value, out var t) ? Math.Max(1, t) : throw new FormatException($"has an invalid connect_timeout '{value}'");
                    break;
                case "application_name":
                    b.ApplicationName = value;
                    break;
                case "search_path":
                    b.SearchPath = value;
                    break;
                case "pool_max_conns":
                    b.MaxPoolSize = int.TryParse(value, out var max) ? max : throw new FormatException($"has an invalid pool_max_conns '{value}'");
                    break;
                case "pool_min_conns":
                    b.MinPoolSize = int.TryParse(value, out var min) ? min : throw new FormatException($"has an invalid pool_min_conns '{value}'");
                    break;
                default:
                    throw new FormatException($"has the setting '{key}', which this sidecar does not support (known: host, port, dbname, user, password, sslmode, sslrootcert, sslcert, sslkey, connect_timeout, application_name, search_path, pool_max_conns, pool_min_conns)");
            }
        }
        return b;
    }
}
