using Dapr.Client.Autogen.Grpc.v1;
using Microsoft.Data.Sqlite;

namespace DaprShop.Sidecar.Runtime.Jobs;

/// <summary>A job as the local Scheduler keeps it: the job as scheduled and where its triggers stand.</summary>
/// <param name="Due">When the current trigger was due (a retry keeps it, so the schedule goes on from there).</param>
/// <param name="NextAt">When the current trigger is next attempted: its due time, or a retry's.</param>
/// <param name="Triggered">Triggers counted so far (against <c>repeats</c>), failed ones included.</param>
/// <param name="Attempt">Failed deliveries of the current trigger.</param>
/// <param name="Version">Changes on every write, so a trigger in flight cannot undo an overwrite or a delete.</param>
public sealed record StoredJob(string Name, Job Job, DateTimeOffset Created, DateTimeOffset Due, DateTimeOffset NextAt, long Triggered, long Attempt, long Version);

/// <summary>
/// The local mesh's Scheduler: one SQLite database (WAL, shared by every sidecar of the mesh, as daprd's sidecars
/// share the Scheduler's etcd), at <c>{mesh folder}/scheduler/jobs.db</c>. Jobs are keyed by namespace, app id and
/// name, so an app sees only its own. A trigger is claimed with a lease before it is delivered, so of several
/// replicas of an app exactly one gets it, and a sidecar that dies while delivering leaves it to be delivered again
/// when the lease runs out (at least once).
/// </summary>
public sealed class JobStore : IDisposable
{
    private readonly string _path;
    private readonly Lock _gate = new();
    private SqliteConnection? _db;

    public JobStore(Hosting.SidecarOptions options)
    {
        _path = Path.Combine(options.MeshDirectory, "scheduler", "jobs.db");
    }

    /// <summary>False until some sidecar of the mesh has scheduled a job: apps that use no jobs cost nothing.</summary>
    public bool Exists => _db is not null || File.Exists(_path);

    public bool TryCreate(string ns, string appId, Job job, DateTimeOffset created, DateTimeOffset first, bool overwrite) => Run(db =>
    {
        using var command = db.CreateCommand();
        command.CommandText = (overwrite ? "INSERT OR REPLACE" : "INSERT OR IGNORE") + """
             INTO jobs (namespace, app_id, name, job, created, due, next_at, triggered, attempt, lease_owner, lease_until, version)
            VALUES ($ns, $app, $name, $job, $created, $due, $due, 0, 0, NULL, NULL,
                    COALESCE((SELECT version FROM jobs WHERE namespace = $ns AND app_id = $app AND name = $name), 0) + 1)
            """;
        Key(command, ns, appId, job.Name);
        command.Parameters.AddWithValue("$job", Google.Protobuf.MessageExtensions.ToByteArray(job));
        command.Parameters.AddWithValue("$created", created.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$due", first.ToUnixTimeMilliseconds());
        return command.ExecuteNonQuery() == 1;
    });

    public StoredJob? Get(string ns, string appId, string name) => Run(db =>
    {
        using var command = Select(db, "namespace = $ns AND app_id = $app AND name = $name");
        Key(command, ns, appId, name);
        return Read(command).FirstOrDefault();
    }, ifMissing: null);

    public IReadOnlyList<StoredJob> List(string ns, string appId) => Run(db =>
    {
        using var command = Select(db, "namespace = $ns AND app_id = $app ORDER BY name");
        Key(command, ns, appId, "");
        return Read(command);
    }, ifMissing: []);

    public void Delete(string ns, string appId, string name) => Run(db =>
    {
        using var command = db.CreateCommand();
        command.CommandText = "DELETE FROM jobs WHERE namespace = $ns AND app_id = $app AND name = $name";
        Key(command, ns, appId, name);
        return command.ExecuteNonQuery();
    }, ifMissing: 0);

    public void DeleteByPrefix(string ns, string appId, string prefix) => Run(db =>
    {
        using var command = db.CreateCommand();
        // substr rather than LIKE: a name may hold '%' or '_'.
        command.CommandText = "DELETE FROM jobs WHERE namespace = $ns AND app_id = $app AND substr(name, 1, length($prefix)) = $prefix";
        Key(command, ns, appId, "");
        command.Parameters.AddWithValue("$prefix", prefix);
        return command.ExecuteNonQuery();
    }, ifMissing: 0);

    /// <summary>Triggers of this app due by <paramref name="now"/> that no sidecar holds a lease on.</summary>
    public IReadOnlyList<StoredJob> Due(string ns, string appId, DateTimeOffset now, int limit) => Run(db =>
    {
        using var command = Select(db, "namespace = $ns AND app_id = $app AND next_at <= $now AND (lease_until IS NULL OR lease_until < $now) ORDER BY next_at LIMIT $limit");
        Key(command, ns, appId, "");
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$limit", limit);
        return Read(command);
    }, ifMissing: []);

    /// <summary>
    /// When this app's next trigger can be claimed (its due time, or the end of a lease held on it), or null when it
    /// has none; a trigger in flight is not due again while its lease lasts, so the trigger loop need not poll for it.
    /// </summary>
    public DateTimeOffset? NextAt(string ns, string appId) => Run(db =>
    {
        using var command = db.CreateCommand();
        command.CommandText = "SELECT MIN(MAX(next_at, COALESCE(lease_until, 0))) FROM jobs WHERE namespace = $ns AND app_id = $app";
        Key(command, ns, appId, "");
        return command.ExecuteScalar() is long ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : (DateTimeOffset?)null;
    }, ifMissing: null);

    /// <summary>Takes the trigger for this sidecar until <paramref name="until"/>; false when another took it or the job changed.</summary>
    public bool TryClaim(string ns, string appId, StoredJob job, string owner, DateTimeOffset now, DateTimeOffset until) => Run(db =>
    {
        using var command = db.CreateCommand();
        command.CommandText = """
            UPDATE jobs SET lease_owner = $owner, lease_until = $until
            WHERE namespace = $ns AND app_id = $app AND name = $name AND version = $version AND (lease_until IS NULL OR lease_until < $now)
            """;
        Key(command, ns, appId, job.Name);
        command.Parameters.AddWithValue("$owner", owner);
        command.Parameters.AddWithValue("$until", until.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$version", job.Version);
        return command.ExecuteNonQuery() == 1;
    }, ifMissing: false);

    /// <summary>Counts the trigger and moves on to <paramref name="next"/>, or deletes the job when it is done.</summary>
    public void Advance(string ns, string appId, StoredJob job, DateTimeOffset? next) => Run(db =>
    {
        using var command = db.CreateCommand();
        command.CommandText = next is null
            ? "DELETE FROM jobs WHERE namespace = $ns AND app_id = $app AND name = $name AND version = $version"
            : """
              UPDATE jobs SET due = $next, next_at = $next, triggered = triggered + 1, attempt = 0, lease_owner = NULL, lease_until = NULL, version = version + 1
              WHERE namespace = $ns AND app_id = $app AND name = $name AND version = $version
              """;
        Key(command, ns, appId, job.Name);
        command.Parameters.AddWithValue("$version", job.Version);
        command.Parameters.AddWithValue("$next", next?.ToUnixTimeMilliseconds() ?? 0);
        return command.ExecuteNonQuery();
    }, ifMissing: 0);

    /// <summary>Leaves the trigger due again at <paramref name="at"/> after a failed delivery.</summary>
    public void Retry(string ns, string appId, StoredJob job, DateTimeOffset at) => Run(db =>
    {
        using var command = db.CreateCommand();
        command.CommandText = """
            UPDATE jobs SET next_at = $at, attempt = attempt + 1, lease_owner = NULL, lease_until = NULL, version = version + 1
            WHERE namespace = $ns AND app_id = $app AND name = $name AND version = $version
            """;
        Key(command, ns, appId, job.Name);
        command.Parameters.AddWithValue("$version", job.Version);
        command.Parameters.AddWithValue("$at", at.ToUnixTimeMilliseconds());
        return command.ExecuteNonQuery();
    }, ifMissing: 0);

    private static SqliteCommand Select(SqliteConnection db, string where)
    {
        var command = db.CreateCommand();
        command.CommandText = "SELECT name, job, created, due, next_at, triggered, attempt, version FROM jobs WHERE " + where;
        return command;
    }

    private static List<StoredJob> Read(SqliteCommand command)
    {
        var jobs = new List<StoredJob>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            jobs.Add(new StoredJob(reader.GetString(0), Job.Parser.ParseFrom((byte[])reader.GetValue(1)),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)), reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7)));
        }
        return jobs;
    }

    private static void Key(SqliteCommand command, string ns, string appId, string name)
    {
        command.Parameters.AddWithValue("$ns", ns);
        command.Parameters.AddWithValue("$app", appId);
        command.Parameters.AddWithValue("$name", name);
    }

    private T Run<T>(Func<SqliteConnection, T> action) => Run(action, default!, create: true);

    /// <summary>Reads and changes of a database no sidecar has created yet answer <paramref name="ifMissing"/>.</summary>
    private T Run<T>(Func<SqliteConnection, T> action, T ifMissing, bool create = false)
    {
        lock (_gate)
        {
            if (_db is null)
            {
                if (!create && !File.Exists(_path))
                {
                    return ifMissing;
                }
                _db = Open();
            }
            return action(_db);
        }
    }

    private SqliteConnection Open()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _path, Pooling = false }.ToString());
        db.Open();
        using var command = db.CreateCommand();
        // Every sidecar of the mesh opens this file: wait for another's write rather than fail.
        command.CommandText = """
            PRAGMA busy_timeout = 10000;
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS jobs (
                namespace TEXT NOT NULL, app_id TEXT NOT NULL, name TEXT NOT NULL,
                job BLOB NOT NULL, created INTEGER NOT NULL, due INTEGER NOT NULL, next_at INTEGER NOT NULL,
                triggered INTEGER NOT NULL, attempt INTEGER NOT NULL, lease_owner TEXT, lease_until INTEGER, version INTEGER NOT NULL,
                PRIMARY KEY (namespace, app_id, name));
            CREATE INDEX IF NOT EXISTS jobs_next_at ON jobs (namespace, app_id, next_at);
            """;
        command.ExecuteNonQuery();
        return db;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _db?.Dispose();
            _db = null;
        }
    }
}
