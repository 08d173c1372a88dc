using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

namespace DaprShop.Sidecar.Components.State;

/// <summary>
/// <c>state.sqlite</c> v1 with daprd's table layout, so one database file works under either sidecar:
/// <c>key, value, is_binary, etag, expiration_time, update_time</c> plus a metadata table holding the migration level.
/// One connection behind one lock serialises this process's statements; SQLite's busy timeout covers other
/// processes on the same file. Every write is one statement or one <c>BEGIN IMMEDIATE</c> transaction.
/// </summary>
public sealed partial class SqliteStateStore : IKeyScanStateStore
{
    // Timestamps as SQLite's own text format with milliseconds; daprd's second-precision values compare correctly against them.
    private const string Now = "strftime('%Y-%m-%d %H:%M:%f', 'now')";
    private const int MigrationLevel = 1;

    private readonly ComponentContext _context;
    private readonly string _connectionString;
    private readonly List<string> _pragmas;
    private readonly bool _inMemory;
    private readonly bool _readOnly;
    private readonly string _table;
    private readonly string _metadataTable;
    private readonly TimeSpan _timeout;
    private readonly TimeSpan _busyTimeout;
    private readonly TimeSpan _cleanupInterval;
    private readonly bool _disableWal;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<PendingWrite> _pending = [];
    private readonly Dictionary<string, SqliteCommand> _prepared = new(StringComparer.Ordinal);
    private SqliteConnection? _db;
    private IAsyncDisposable? _cleanup;

    public SqliteStateStore(ComponentContext context)
    {
        _context = context;
        try
        {
            (_connectionString, _pragmas, _inMemory, _readOnly) = ParseConnectionString(context.Required("connectionString"));
        }
        catch (FormatException ex)
        {
            throw context.Error("connectionString", ex.Message);
        }
        _table = context.Identifier("tableName", "state");
        _metadataTable = context.Identifier("metadataTableName", "metadata");
        _timeout = context.Duration(context.Get("timeout") is null && context.Get("timeoutInSeconds") is not null ? "timeoutInSeconds" : "timeout", TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(1));
        _busyTimeout = context.Duration("busyTimeout", TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(1));
        // daprd's default is 0: no periodic cleanup (expired rows stay invisible until overwritten).
        _cleanupInterval = context.Duration(context.Get("cleanupInterval") is null && context.Get("cleanupIntervalInSeconds") is not null ? "cleanupIntervalInSeconds" : "cleanupInterval", TimeSpan.Zero, TimeSpan.FromSeconds(1));
        _disableWal = context.Bool("disableWAL", false);
        if (_table == _metadataTable)
        {
            throw context.Error("metadataTableName", "must differ from tableName");
        }
    }

    public IReadOnlyList<string> Capabilities { get; } = ["ETAG", "TRANSACTIONAL", "TTL"];

    public bool SupportsTransactions => true;

    public async Task InitAsync(CancellationToken cancellationToken)
    {
        var db = new SqliteConnection(_connectionString) { DefaultTimeout = CommandTimeoutSeconds };
        await db.OpenAsync(cancellationToken);
        _db = db;
        Exec($"PRAGMA busy_timeout = {(long)_busyTimeout.TotalMilliseconds}");
        if (!_disableWal && !_inMemory && !_readOnly)
        {
            Exec("PRAGMA journal_mode = WAL");
        }
        foreach (var pragma in _pragmas)
        {
            Exec("PRAGMA " + pragma);
        }
        if (!_readOnly)
        {
            Migrate();
        }
        _cleanup = StoredValues.ScheduleCleanup(_cleanupInterval, CleanupExpiredAsync, _context.Logger);
    }

    private int CommandTimeoutSeconds => Math.Max(1, (int)Math.Ceiling(_timeout.TotalSeconds));

    private SqliteConnection Db => _db ?? throw new InvalidOperationException("the SQLite state store is not initialised");

    public async Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var cmd = Prepared($"SELECT value, is_binary, etag, expiration_time FROM {_table} WHERE key = $key AND {Live}", null);
            cmd.Parameters.AddWithValue("$key", key);
            using var reader = cmd.ExecuteReader();
            if (!reader.Read())
            {
                return null;
            }
            return new StateEntry(Decode(reader.GetString(0), reader.GetBoolean(1)), reader.GetString(2), reader.IsDBNull(3) ? null : ParseTimestamp(reader.GetString(3)));
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<string> SetAsync(SetOperation operation, CancellationToken cancellationToken) =>
        (await WriteAsync(tx => Set(operation, tx), cancellationToken))!;

    public Task DeleteAsync(DeleteOperation operation, CancellationToken cancellationToken) =>
        WriteAsync(tx =>
        {
            Delete(operation, tx);
            return null;
        }, cancellationToken);

    public Task TransactAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken) =>
        WriteAsync(tx =>
        {
            foreach (var op in operations)
            {
                switch (op)
                {
                    case SetOperation set:
                        Set(set, tx);
                        break;
                    case DeleteOperation delete:
                        Delete(delete, tx);
                        break;
                }
            }
            return null;
        }, cancellationToken);

    /// <summary>A write waiting for a commit; its result is the new ETag of a single set, else null.</summary>
    private sealed class PendingWrite(Func<SqliteTransaction, string?> apply)
    {
        public Func<SqliteTransaction, string?> Apply { get; } = apply;

        public TaskCompletionSource<string?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>
    /// Queues the write, then either commits the queue itself (with everything queued behind the previous commit) or
    /// finds that the writer before it already did. Answers only once the write is durable or has failed.
    /// </summary>
    private async Task<string?> WriteAsync(Func<SqliteTransaction, string?> apply, CancellationToken cancellationToken)
    {
        var write = new PendingWrite(apply);
        lock (_pending)
        {
            _pending.Add(write);
        }
        try
        {
            await _gate.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            lock (_pending)
            {
                if (_pending.Remove(write))
                {
                    throw;
                }
            }
            // Another writer has already taken it into its commit: the outcome is decided there.
            return await write.Done.Task;
        }
        try
        {
            if (!write.Done.Task.IsCompleted)
            {
                CommitPending();
            }
        }
        finally
        {
            _gate.Release();
        }
        return await write.Done.Task;
    }

    /// <summary>Runs every queued write in one transaction (a savepoint each when there are several) and commits once (under the gate).</summary>
    private void CommitPending()
    {
        PendingWrite[] batch;
        lock (_pending)
        {
            batch = [.. _pending];
            _pending.Clear();
        }
        if (batch.Length == 0)
        {
            return;
        }
        var results = new (string? ETag, Exception? Error)[batch.Length];
        try
        {
            // BEGIN IMMEDIATE: take the write lock up front so another process cannot make us fail halfway with SQLITE_BUSY.
            using var tx = Db.BeginTransaction(deferred: false);
            if (batch.Length == 1)
            {
                results[0] = (batch[0].Apply(tx), null);
            }
            else
            {
                for (var i = 0; i < batch.Length; i++)
                {
                    tx.Save("w");
                    try
                    {
                        results[i] = (batch[i].Apply(tx), null);
                    }
                    catch (Exception ex) when (ex is ETagMismatchException or SqliteException or InvalidOperationException)
                    {
                        // This write alone is undone; the others in the batch go on.
                        tx.Rollback("w");
                        results[i] = (null, ex);
                    }
                    tx.Release("w");
                }
            }
            tx.Commit();
        }
        catch (Exception ex)
        {
            // Nothing of the batch was committed.
            foreach (var write in batch)
            {
                write.Done.TrySetException(ex);
            }
            return;
        }
        for (var i = 0; i < batch.Length; i++)
        {
            if (results[i].Error is { } error)
            {
                batch[i].Done.TrySetException(error);
            }
            else
            {
                batch[i].Done.TrySetResult(results[i].ETag);
            }
        }
    }

    public async Task<IReadOnlyList<StateQueryItem>> ListAsync(string keyPrefix, int limit, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            // substr, not LIKE: the prefix is taken literally, whatever characters it holds.
            using var cmd = Command($"SELECT key, value, is_binary, etag FROM {_table} WHERE substr(key, 1, $length) = $prefix AND {Live} ORDER BY update_time, key LIMIT $limit");
            cmd.Parameters.AddWithValue("$length", keyPrefix.Length);
            cmd.Parameters.AddWithValue("$prefix", keyPrefix);
            cmd.Parameters.AddWithValue("$limit", limit);
            using var reader = cmd.ExecuteReader();
            var items = new List<StateQueryItem>();
            while (reader.Read())
            {
                items.Add(new StateQueryItem(reader.GetString(0), Decode(reader.GetString(1), reader.GetBoolean(2)), reader.GetString(3)));
            }
            return items;
        }
        finally
        {
            _gate.Release();
        }
    }

    private string Live => $"(expiration_time IS NULL OR expiration_time > {Now})";

    private string Set(SetOperation op, SqliteTransaction? tx)
    {
        var etag = Guid.NewGuid().ToString();
        var isBinary = !StoredValues.TryGetJsonText(op.Value, out var text);
        if (isBinary)
        {
            text = Convert.ToBase64String(op.Value);
        }
        // A new write also replaces (or clears) an earlier TTL.
        var expiration = op.Ttl is { } ttl
            ? "strftime('%Y-%m-%d %H:%M:%f', 'now', $ttl)"
            : "NULL";
        string sql;
        if (!string.IsNullOrEmpty(op.ETag))
        {
            sql = $"""
                UPDATE {_table} SET value = $value, is_binary = $binary, etag = $etag, update_time = CURRENT_TIMESTAMP, expiration_time = {expiration}
                WHERE key = $key AND etag = $expected AND {Live}
                """;
        }
        else if (op.Concurrency == Concurrency.FirstWrite)
        {
            // Create only: an expired row that the cleanup has not removed yet counts as absent.
            sql = $"""
                INSERT OR REPLACE INTO {_table} (key, value, is_binary, etag, update_time, expiration_time)
                SELECT $key, $value, $binary, $etag, CURRENT_TIMESTAMP, {expiration}
                WHERE NOT EXISTS (SELECT 1 FROM {_table} WHERE key = $key AND {Live})
                """;
        }
        else
        {
            sql = $"""
                INSERT OR REPLACE INTO {_table} (key, value, is_binary, etag, update_time, expiration_time)
                VALUES ($key, $value, $binary, $etag, CURRENT_TIMESTAMP, {expiration})
                """;
        }
        var cmd = Prepared(sql, tx);
        cmd.Parameters.AddWithValue("$key", op.Key);
        cmd.Parameters.AddWithValue("$value", text);
        cmd.Parameters.AddWithValue("$binary", isBinary);
        cmd.Parameters.AddWithValue("$etag", etag);
        if (op.Ttl is { } t)
        {
            cmd.Parameters.AddWithValue("$ttl", "+" + t.TotalSeconds.ToString(CultureInfo.InvariantCulture) + " seconds");
        }
        if (!string.IsNullOrEmpty(op.ETag))
        {
            cmd.Parameters.AddWithValue("$expected", op.ETag);
        }
        if (cmd.ExecuteNonQuery() == 0)
        {
            throw new ETagMismatchException(op.Key);
        }
        return etag;
    }

    private void Delete(DeleteOperation op, SqliteTransaction? tx)
    {
        var hasETag = !string.IsNullOrEmpty(op.ETag);
        var cmd = Prepared(hasETag
            ? $"DELETE FROM {_table} WHERE key = $key AND etag = $expected AND {Live}"
            : $"DELETE FROM {_table} WHERE key = $key", tx);
        cmd.Parameters.AddWithValue("$key", op.Key);
        if (hasETag)
        {
            cmd.Parameters.AddWithValue("$expected", op.ETag);
        }
        if (cmd.ExecuteNonQuery() == 0 && hasETag)
        {
            throw new ETagMismatchException(op.Key);
        }
    }

    /// <summary>Creates the tables as daprd's migration 0 does and records level 1, so daprd finds nothing left to do.</summary>
    private void Migrate()
    {
        using var tx = Db.BeginTransaction(deferred: false);
        Exec($"CREATE TABLE IF NOT EXISTS {_metadataTable} (key text NOT NULL PRIMARY KEY, value text NOT NULL)", tx);
        using var read = Command($"SELECT value FROM {_metadataTable} WHERE key = 'migrations'", tx);
        var current = read.ExecuteScalar() as string;
        var level = 0;
        if (current is not null && (!int.TryParse(current, NumberStyles.Integer, CultureInfo.InvariantCulture, out level) || level < 0))
        {
            throw new InvalidOperationException($"invalid migration level found in metadata table {_metadataTable}: {current}");
        }
        if (level < MigrationLevel)
        {
            _context.Logger.LogInformation("Creating SQLite state table '{Table}'", _table);
            Exec($"""
                CREATE TABLE IF NOT EXISTS {_table} (
                  key TEXT NOT NULL PRIMARY KEY,
                  value TEXT NOT NULL,
                  is_binary BOOLEAN NOT NULL,
                  etag TEXT NOT NULL,
                  expiration_time TIMESTAMP DEFAULT NULL,
                  update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
                )
                """, tx);
            Exec($"REPLACE INTO {_metadataTable} (key, value) VALUES ('migrations', '{MigrationLevel}')", tx);
        }
        tx.Commit();
    }

    /// <summary>
    /// Deletes expired rows, at most once per interval across every sidecar sharing the file: the
    /// <c>last-cleanup</c> row in the metadata table (as daprd keeps it) says when the last run was.
    /// </summary>
    internal async Task<long> CleanupExpiredAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using var tx = Db.BeginTransaction(deferred: false);
            using var claim = Command($"""
                INSERT INTO {_metadataTable} (key, value) VALUES ('last-cleanup', CURRENT_TIMESTAMP)
                ON CONFLICT (key) DO UPDATE SET value = CURRENT_TIMESTAMP
                WHERE (unixepoch(CURRENT_TIMESTAMP) - unixepoch(value)) * 1000 > $ms
                """, tx);
            claim.Parameters.AddWithValue("$ms", (long)(_cleanupInterval.TotalMilliseconds * 0.9));
            long removed = 0;
            if (claim.ExecuteNonQuery() > 0)
            {
                using var delete = Command($"DELETE FROM {_table} WHERE expiration_time IS NOT NULL AND expiration_time <= {Now}", tx);
                removed = delete.ExecuteNonQuery();
            }
            tx.Commit();
            return removed;
        }
        finally
        {
            _gate.Release();
        }
    }

    private SqliteCommand Command(string sql, SqliteTransaction? tx = null)
    {
        var cmd = Db.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        cmd.CommandTimeout = CommandTimeoutSeconds;
        return cmd;
    }

    /// <summary>A statement of the hot paths, prepared once per text and kept (under the gate): SQLite parses it once.</summary>
    private SqliteCommand Prepared(string sql, SqliteTransaction? tx)
    {
        if (!_prepared.TryGetValue(sql, out var cmd))
        {
            cmd = Command(sql);
            _prepared[sql] = cmd;
        }
        cmd.Parameters.Clear();
        cmd.Transaction = tx;
        return cmd;
    }

    private void Exec(string sql, SqliteTransaction? tx = null)
    {
        using var cmd = Command(sql, tx);
        cmd.ExecuteNonQuery();
    }

    /// <summary>A stored value back to its bytes: JSON is kept as its text, anything else as base64 (see <see cref="Set"/>).</summary>
    private static byte[] Decode(string text, bool isBinary) =>
        isBinary ? Convert.FromBase64String(text) : System.Text.Encoding.UTF8.GetBytes(text);

    private static DateTimeOffset ParseTimestamp(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    [GeneratedRegex(@"^[A-Za-z_]+(\s*=\s*[A-Za-z0-9_\-]+|\([A-Za-z0-9_\-]+\))?$", RegexOptions.CultureInvariant)]
    private static partial Regex PragmaPattern();

    /// <summary>
    /// daprd takes a file path, a <c>file:</c> URI (with the Go driver's <c>_pragma=</c> options) or <c>:memory:</c>;
    /// a full ADO.NET string (<c>Data Source=...</c>) is accepted too.
    /// </summary>
    internal static (string ConnectionString, List<string> Pragmas, bool InMemory, bool ReadOnly) ParseConnectionString(string value)
    {
        var pragmas = new List<string>();
        SqliteConnectionStringBuilder builder;
        if (value.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            var q = value.IndexOf('?', StringComparison.Ordinal);
            var path = q < 0 ? value : value[..q];
            var kept = new List<string>();
            if (q >= 0)
            {
                foreach (var part in value[(q + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
                {
                    var eq = part.IndexOf('=', StringComparison.Ordinal);
                    var name = eq < 0 ? part : part[..eq];
                    var arg = eq < 0 ? "" : Uri.UnescapeDataString(part[(eq + 1)..]);
                    if (name == "_pragma")
                    {
                        if (!PragmaPattern().IsMatch(arg))
                        {
                            throw new FormatException($"has an unsupported _pragma value '{arg}'");
                        }
                        pragmas.Add(arg);
                    }
                    else if (!name.StartsWith('_'))
                    {
                        kept.Add(part); // SQLite's own URI parameters (mode, cache, immutable, ...)
                    }
                }
            }
            builder = new SqliteConnectionStringBuilder { DataSource = kept.Count == 0 ? path : path + "?" + string.Join('&', kept) };
        }
        else if (value.Contains('=', StringComparison.Ordinal))
        {
            try
            {
                builder = new SqliteConnectionStringBuilder(value);
            }
            catch (ArgumentException ex)
            {
                throw new FormatException($"is not a valid connection string: {ex.Message}");
            }
        }
        else
        {
            builder = new SqliteConnectionStringBuilder { DataSource = value };
        }
        // Each connection is its own statement cache; this store keeps exactly one.
        builder.Pooling = false;
        var source = builder.DataSource;
        var inMemory = source == ":memory:" || builder.Mode == SqliteOpenMode.Memory
            || source.Contains("mode=memory", StringComparison.OrdinalIgnoreCase) || source.StartsWith("file::memory:", StringComparison.OrdinalIgnoreCase);
        var readOnly = builder.Mode == SqliteOpenMode.ReadOnly
            || source.Contains("mode=ro", StringComparison.OrdinalIgnoreCase) || source.Contains("immutable=1", StringComparison.OrdinalIgnoreCase);
        return (builder.ToString(), pragmas, inMemory, readOnly);
    }

    public async ValueTask DisposeAsync()
    {
        if (_cleanup is not null)
        {
            await _cleanup.DisposeAsync();
        }
        await _gate.WaitAsync();
        try
        {
            foreach (var cmd in _prepared.Values)
            {
                cmd.Dispose();
            }
            _prepared.Clear();
            if (_db is not null)
            {
                await _db.DisposeAsync();
                _db = null;
            }
        }
        finally
        {
            _gate.Release();
        }
    }
}
