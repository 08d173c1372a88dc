using System.Globalization;
using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace DaprShop.Sidecar.Components.State;

/// <summary>
/// <c>state.postgresql</c> v1 with daprd's table layout and migration level, so one database serves either sidecar:
/// values in a <c>jsonb</c> column (non-JSON bytes as a base64 JSON string with <c>isbinary</c>), the row's
/// <c>xmin</c> as the ETag, <c>expiredate</c> for TTLs. Answers the state query API over the jsonb values.
/// </summary>
public sealed class PostgresStateStore : IQueryableStateStore, IKeyScanStateStore
{
    private const int MigrationLevel = 2;
    private const string Live = "(expiredate IS NULL OR expiredate > CURRENT_TIMESTAMP)";

    private readonly ComponentContext _context;
    private readonly NpgsqlConnectionStringBuilder _connection;
    private readonly string _table;
    private readonly string _metadataTable;
    private readonly TimeSpan _timeout;
    private readonly TimeSpan _cleanupInterval;
    private NpgsqlDataSource? _db;
    private IAsyncDisposable? _cleanup;

    public PostgresStateStore(ComponentContext context)
    {
        _context = context;
        _table = context.Identifier("tableName", "state");
        _metadataTable = context.Identifier("metadataTableName", "dapr_metadata");
        if (string.Equals(_table, _metadataTable, StringComparison.OrdinalIgnoreCase))
        {
            throw context.Error("metadataTableName", "must differ from tableName");
        }
        _timeout = context.Duration(context.Get("timeout") is null && context.Get("timeoutInSeconds") is not null ? "timeoutInSeconds" : "timeout", TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(1));
        _cleanupInterval = context.Duration(context.Get("cleanupInterval") is null && context.Get("cleanupIntervalInSeconds") is not null ? "cleanupIntervalInSeconds" : "cleanupInterval", TimeSpan.FromHours(1), TimeSpan.FromSeconds(1));
        try
        {
            _connection = PostgresConnectionStrings.Parse(context.Required("connectionString"));
        }
        catch (FormatException ex)
        {
            throw context.Error("connectionString", ex.Message);
        }
        _connection.CommandTimeout = Math.Max(1, (int)Math.Ceiling(_timeout.TotalSeconds));
        var maxConns = context.Int("maxConns", 0);
        if (maxConns < 0)
        {
            throw context.Error("maxConns", "must be a positive number");
        }
        if (maxConns > 0)
        {
            _connection.MaxPoolSize = maxConns;
        }
    }

    public IReadOnlyList<string> Capabilities { get; } = ["ETAG", "TRANSACTIONAL", "QUERY_API", "TTL"];

    public bool SupportsTransactions => true;

    private NpgsqlDataSource Db => _db ?? throw new InvalidOperationException("the PostgreSQL state store is not initialised");

    public async Task InitAsync(CancellationToken cancellationToken)
    {
        _db = NpgsqlDataSource.Create(_connection);
        await MigrateAsync(cancellationToken);
        _cleanup = StoredValues.ScheduleCleanup(_cleanupInterval, CleanupExpiredAsync, _context.Logger);
    }

    /// <summary>daprd's two v1 migrations (create the table; add <c>expiredate</c>), serialised across sidecars by an advisory lock.</summary>
    private async Task MigrateAsync(CancellationToken ct)
    {
        await using var conn = await Db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await ExecAsync(conn, tx, "SELECT pg_advisory_xact_lock($1)", ct, LockKey($"daprshop-state-migrations:{_metadataTable}"));
        await ExecAsync(conn, tx, $"CREATE TABLE IF NOT EXISTS {_metadataTable} (key text NOT NULL PRIMARY KEY, value text NOT NULL)", ct);
        await using var read = new NpgsqlCommand($"SELECT value FROM {_metadataTable} WHERE key = 'migrations'", conn, tx);
        var current = await read.ExecuteScalarAsync(ct) as string;
        var level = 0;
        if (current is not null && (!int.TryParse(current, NumberStyles.Integer, CultureInfo.InvariantCulture, out level) || level < 0))
        {
            throw new InvalidOperationException($"invalid migration level found in metadata table {_metadataTable}: {current}");
        }
        if (level < 1)
        {
            _context.Logger.LogInformation("Creating PostgreSQL state table '{Table}'", _table);
            await ExecAsync(conn, tx, $"""
                CREATE TABLE IF NOT EXISTS {_table} (
                  key text NOT NULL PRIMARY KEY,
                  value jsonb NOT NULL,
                  isbinary boolean NOT NULL,
                  insertdate TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
                  updatedate TIMESTAMP WITH TIME ZONE NULL
                )
                """, ct);
        }
        if (level < 2)
        {
            await ExecAsync(conn, tx, $"ALTER TABLE {_table} ADD COLUMN IF NOT EXISTS expiredate TIMESTAMP WITH TIME ZONE", ct);
        }
        if (level < MigrationLevel)
        {
            await ExecAsync(conn, tx, $"""
                INSERT INTO {_metadataTable} (key, value) VALUES ('migrations', $1)
                ON CONFLICT (key) DO UPDATE SET value = excluded.value
                """, ct, MigrationLevel.ToString(CultureInfo.InvariantCulture));
        }
        await tx.CommitAsync(ct);
    }

    public async Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        await using var cmd = Db.CreateCommand($"SELECT value::text, isbinary, xmin::text, expiredate FROM {_table} WHERE key = $1 AND {Live}");
        cmd.Parameters.Add(new NpgsqlParameter { Value = key });
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        var value = Decode(reader.GetString(0), reader.GetBoolean(1));
        DateTimeOffset? expires = reader.IsDBNull(3) ? null : new DateTimeOffset(reader.GetFieldValue<DateTime>(3).ToUniversalTime(), TimeSpan.Zero);
        return new StateEntry(value, reader.GetString(2), expires);
    }

    public async Task<string> SetAsync(SetOperation operation, CancellationToken cancellationToken)
    {
        await using var conn = await Db.OpenConnectionAsync(cancellationToken);
        return await SetAsync(conn, null, operation, cancellationToken);
    }

    public async Task DeleteAsync(DeleteOperation operation, CancellationToken cancellationToken)
    {
        await using var conn = await Db.OpenConnectionAsync(cancellationToken);
        await DeleteAsync(conn, null, operation, cancellationToken);
    }

    public async Task<IReadOnlyList<StateQueryItem>> ListAsync(string keyPrefix, int limit, CancellationToken cancellationToken)
    {
        // left(), not LIKE: the prefix is taken literally, whatever characters it holds.
        await using var cmd = Db.CreateCommand($"SELECT key, value::text, isbinary, xmin::text FROM {_table} WHERE left(key, $1) = $2 AND {Live} ORDER BY key LIMIT $3");
        cmd.Parameters.Add(new NpgsqlParameter { Value = keyPrefix.Length });
        cmd.Parameters.Add(new NpgsqlParameter { Value = keyPrefix });
        cmd.Parameters.Add(new NpgsqlParameter { Value = limit });
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        var items = new List<StateQueryItem>();
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(new StateQueryItem(reader.GetString(0), Decode(reader.GetString(1), reader.GetBoolean(2)), reader.GetString(3)));
        }
        return items;
    }

    public async Task TransactAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        await using var conn = await Db.OpenConnectionAsync(cancellationToken);
        await using var tx = await conn.BeginTransactionAsync(cancellationToken);
        foreach (var op in operations)
        {
            switch (op)
            {
                case SetOperation set:
                    await SetAsync(conn, tx, set, cancellationToken);
                    break;
                case DeleteOperation delete:
                    await DeleteAsync(conn, tx, delete, cancellationToken);
                    break;
            }
        }
        await tx.CommitAsync(cancellationToken);
    }

    private async Task<string> SetAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, SetOperation op, CancellationToken ct)
    {
        var expected = ParseETag(op.ETag);
        string json;
        bool isBinary;
        // jsonb cannot hold U+0000: such documents are kept as binary, like any non-JSON bytes.
        if (StoredValues.TryGetJsonText(op.Value, out var text) && !text.Contains("\\u0000", StringComparison.Ordinal))
        {
            (json, isBinary) = (text, false);
        }
        else
        {
            (json, isBinary) = (JsonSerializer.Serialize(Convert.ToBase64String(op.Value)), true);
        }
        var args = new PostgresQueryBuilder();
        var key = args.Add(op.Key);
        var value = args.Add(json, NpgsqlDbType.Jsonb);
        var binary = args.Add(isBinary);
        var expiration = op.Ttl is { } ttl ? $"CURRENT_TIMESTAMP + make_interval(secs => {args.Add(ttl.TotalSeconds)})" : "NULL";
        string sql;
        if (expected is not null)
        {
            sql = $"""
                UPDATE {_table} SET value = {value}, isbinary = {binary}, updatedate = CURRENT_TIMESTAMP, expiredate = {expiration}
                WHERE key = {key} AND xmin::text = {args.Add(expected)} AND {Live}
                RETURNING xmin::text
                """;
        }
        else
        {
            // Upsert in both modes; first-write may only replace a row that has expired but is not yet cleaned up.
            var onlyExpired = op.Concurrency == Concurrency.FirstWrite ? " WHERE t.expiredate IS NOT NULL AND t.expiredate <= CURRENT_TIMESTAMP" : "";
            sql = $"""
                INSERT INTO {_table} AS t (key, value, isbinary, expiredate) VALUES ({key}, {value}, {binary}, {expiration})
                ON CONFLICT (key) DO UPDATE SET value = excluded.value, isbinary = excluded.isbinary,
                  updatedate = CURRENT_TIMESTAMP, expiredate = excluded.expiredate{onlyExpired}
                RETURNING xmin::text
                """;
        }
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        cmd.Parameters.AddRange(args.Parameters.ToArray());
        return await cmd.ExecuteScalarAsync(ct) as string ?? throw new ETagMismatchException(op.Key);
    }

    private async Task DeleteAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, DeleteOperation op, CancellationToken ct)
    {
        var expected = ParseETag(op.ETag);
        await using var cmd = new NpgsqlCommand(expected is null
            ? $"DELETE FROM {_table} WHERE key = $1"
            : $"DELETE FROM {_table} WHERE key = $1 AND xmin::text = $2 AND {Live}", conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter { Value = op.Key });
        if (expected is not null)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = expected });
        }
        if (await cmd.ExecuteNonQueryAsync(ct) == 0 && expected is not null)
        {
            throw new ETagMismatchException(op.Key);
        }
    }

    /// <summary>An ETag is a row's <c>xmin</c>, a 32-bit transaction id; anything else is invalid (400), not a mismatch.</summary>
    private static string? ParseETag(string? etag)
    {
        if (string.IsNullOrEmpty(etag))
        {
            return null;
        }
        return uint.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out var xid)
            ? xid.ToString(CultureInfo.InvariantCulture)
            : throw new ETagInvalidException(etag);
    }

    private static byte[] Decode(string json, bool isBinary) =>
        isBinary
            ? Convert.FromBase64String(JsonSerializer.Deserialize<string>(json) ?? "")
            : Encoding.UTF8.GetBytes(json);

    public async Task<StateQueryResult> QueryAsync(StateQuery query, string keyPrefix, CancellationToken cancellationToken)
    {
        var sql = new PostgresQueryBuilder();
        var where = new List<string> { Live };
        if (keyPrefix.Length > 0)
        {
            where.Add($"starts_with(key, {sql.Add(keyPrefix)})");
        }
        if (query.Filter is not null)
        {
            where.Add(sql.Filter(query.Filter));
        }
        var text = new StringBuilder($"SELECT key, value::text, isbinary, xmin::text FROM {_table} WHERE {string.Join(" AND ", where)} ORDER BY ");
        foreach (var sort in query.Sort)
        {
            text.Append(CultureInfo.InvariantCulture, $"value #> {sql.Path(sort.Field)} {(sort.Descending ? "DESC" : "ASC")}, ");
        }
        text.Append("key"); // a stable order, so pages do not overlap
        long offset = 0;
        if (!string.IsNullOrEmpty(query.Token) && (!long.TryParse(query.Token, NumberStyles.None, CultureInfo.InvariantCulture, out offset)))
        {
            throw new FormatException($"invalid page token '{query.Token}'");
        }
        if (query.Limit > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" LIMIT {query.Limit}");
        }
        if (offset > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" OFFSET {offset}");
        }
        await using var cmd = Db.CreateCommand(text.ToString());
        cmd.Parameters.AddRange(sql.Parameters.ToArray());
        var items = new List<StateQueryItem>();
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                items.Add(new StateQueryItem(reader.GetString(0), Decode(reader.GetString(1), reader.GetBoolean(2)), reader.GetString(3)));
            }
        }
        // As daprd: with a page limit the token is the offset of the next page.
        var token = query.Limit > 0 ? (offset + items.Count).ToString(CultureInfo.InvariantCulture) : null;
        return new StateQueryResult(items, token);
    }

    /// <summary>Deletes expired rows at most once per interval across sidecars, using daprd's <c>last-cleanup</c> metadata row.</summary>
    internal async Task<long> CleanupExpiredAsync(CancellationToken ct)
    {
        await using var conn = await Db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var claimed = await ExecAsync(conn, tx, $"""
            INSERT INTO {_metadataTable} (key, value) VALUES ('last-cleanup', now()::text)
            ON CONFLICT (key) DO UPDATE SET value = now()::text
            WHERE (EXTRACT('epoch' FROM now() - {_metadataTable}.value::timestamp with time zone) * 1000)::bigint > $1
            """, ct, (long)(_cleanupInterval.TotalMilliseconds * 0.9));
        long removed = 0;
        if (claimed > 0)
        {
            removed = await ExecAsync(conn, tx, $"DELETE FROM {_table} WHERE expiredate IS NOT NULL AND expiredate <= CURRENT_TIMESTAMP", ct);
        }
        await tx.CommitAsync(ct);
        return removed;
    }

    private static async Task<int> ExecAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string sql, CancellationToken ct, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        foreach (var arg in args)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = arg });
        }
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>A stable 64-bit key for <c>pg_advisory_xact_lock</c> (FNV-1a; string.GetHashCode differs per process).</summary>
    private static long LockKey(string name)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(name))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }
        return unchecked((long)hash);
    }

    public async ValueTask DisposeAsync()
    {
        if (_cleanup is not null)
        {
            await _cleanup.DisposeAsync();
        }
        if (_db is not null)
        {
            await _db.DisposeAsync();
        }
    }
}

/// <summary>Turns Dapr's query filter into SQL over the jsonb <c>value</c>, every literal a parameter.</summary>
internal sealed class PostgresQueryBuilder
{
    public List<NpgsqlParameter> Parameters { get; } = [];

    public string Add(object value, NpgsqlDbType? type = null)
    {
        var p = new NpgsqlParameter { Value = value };
        if (type is { } t)
        {
            p.NpgsqlDbType = t;
        }
        Parameters.Add(p);
        return "$" + Parameters.Count.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A dotted field (<c>a.b</c>) as a jsonb path parameter (<c>{a,b}</c>).</summary>
    public string Path(string field) => Add(field.Split('.'), NpgsqlDbType.Array | NpgsqlDbType.Text);

    public string Filter(QueryFilter filter) => filter switch
    {
        LogicalFilter l => "(" + string.Join(l.Operator == "AND" ? " AND " : " OR ", l.Filters.Select(Filter)) + ")",
        ComparisonFilter { Operator: "IN" } c => c.Value.GetArrayLength() == 0
            ? throw new FormatException($"empty IN operator for key \"{c.Field}\"")
            : "(" + string.Join(" OR ", c.Value.EnumerateArray().Select(v => Compare("EQ", c.Field, v))) + ")",
        ComparisonFilter c => Compare(c.Operator, c.Field, c.Value),
        _ => throw new FormatException("unsupported filter"),
    };

    private string Compare(string op, string field, JsonElement value)
    {
        var sqlOp = op switch
        {
            "EQ" => "=",
            "NEQ" => "<>",
            "GT" => ">",
            "GTE" => ">=",
            "LT" => "<",
            _ => "<=",
        };
        var ordering = op is not ("EQ" or "NEQ");
        switch (value.ValueKind)
        {
            case JsonValueKind.Number:
                // Numbers compare as numbers (daprd compares their text); a field that is not a number never matches.
                var path = Path(field);
                return $"(CASE WHEN jsonb_typeof(value #> {path}) = 'number' THEN (value #>> {path})::numeric END) {sqlOp} {Add(value.GetRawText())}::numeric";
            case JsonValueKind.String when !ordering:
                return $"(value #>> {Path(field)}) {sqlOp} {Add(value.GetString()!)}";
            case JsonValueKind.String:
                throw new FormatException($"unsupported type of value {value.GetString()}; string type not permitted");
            case JsonValueKind.Null when !ordering:
                return op == "EQ" ? $"(jsonb_typeof(value #> {Path(field)}) = 'null')" : $"(jsonb_typeof(value #> {Path(field)}) <> 'null')";
            case JsonValueKind.Null:
                throw new FormatException($"{op} does not take null");
            default:
                if (ordering)
                {
                    throw new FormatException($"{op} takes a number, not {value.ValueKind.ToString().ToLowerInvariant()}");
                }
                return $"(value #> {Path(field)}) {sqlOp} {Add(value.GetRawText())}::jsonb";
        }
    }
}
