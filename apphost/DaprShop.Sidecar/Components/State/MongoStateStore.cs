using System.Text;
using System.Text.RegularExpressions;
using MongoDB.Bson;
using MongoDB.Bson.IO;
using MongoDB.Driver;

namespace DaprShop.Sidecar.Components.State;

/// <summary>
/// <c>state.mongodb</c> v1 with daprd's document layout — <c>{_id: key, value, _etag: uuid, _ttl: date|null}</c> in
/// <c>databaseName</c>/<c>collectionName</c> (default <c>daprStore</c>/<c>daprCollection</c>) — and its write rules: a
/// save is one upsert filtered by key and, when given, ETag, so a stale ETag (or first-write on a present key) ends in
/// a duplicate-key error, a mismatch; expired documents are filtered on read; transactions need a replica set.
/// NOT RUN HERE: no MongoDB server can be installed on this project's machines, so this store is exercised only by
/// unit tests of its documents, filters and settings (MongoStateStoreTests), never against a server (docs/sidecar.md).
/// </summary>
public sealed class MongoStateStore : IKeyScanStateStore
{
    internal const string Id = "_id";
    internal const string Value = "value";
    internal const string ETag = "_etag";
    internal const string Ttl = "_ttl";

    private readonly ComponentContext _context;
    private readonly MongoUrl _url;
    private readonly string _database;
    private readonly string _collectionName;
    private readonly TimeSpan _timeout;
    private readonly WriteConcern _writeConcern;
    private readonly ReadConcern _readConcern;
    private MongoClient? _client;
    private IMongoCollection<BsonDocument>? _collection;

    public MongoStateStore(ComponentContext context)
    {
        _context = context;
        _database = context.String("databaseName", "daprStore");
        _collectionName = context.String("collectionName", "daprCollection");
        _timeout = context.Duration("operationTimeout", TimeSpan.FromSeconds(5));
        try
        {
            _url = new MongoUrl(ConnectionString(context.Metadata, _database));
        }
        catch (MongoConfigurationException ex)
        {
            throw context.Error("connectionString", $"does not make a MongoDB URL: {ex.Message}");
        }
        catch (ArgumentException ex)
        {
            throw context.Error(ex.ParamName ?? "host", ex.Message);
        }
        _writeConcern = context.Get("writeConcern") switch
        {
            null => new WriteConcern(1, journal: true, wTimeout: _timeout),
            "majority" => new WriteConcern(WriteConcern.WMode.Majority, journal: true, wTimeout: _timeout),
            var w when int.TryParse(w, out var n) && n >= 0 => new WriteConcern(n, journal: true, wTimeout: _timeout),
            var w => throw context.Error("writeConcern", $"must be 'majority' or a number, not '{w}'"),
        };
        _readConcern = context.Get("readConcern") switch
        {
            null or "local" => ReadConcern.Local,
            "majority" => ReadConcern.Majority,
            "available" => ReadConcern.Available,
            "linearizable" => ReadConcern.Linearizable,
            "snapshot" => ReadConcern.Snapshot,
            var r => throw context.Error("readConcern", $"must be local, majority, available, linearizable or snapshot, not '{r}'"),
        };
    }

    public IReadOnlyList<string> Capabilities { get; } = ["ETAG", "TRANSACTIONAL", "TTL"];

    public bool SupportsTransactions => true;

    private IMongoCollection<BsonDocument> Collection => _collection ?? throw new InvalidOperationException("the store is not initialised");

    /// <summary>daprd's connection string: <c>connectionString</c> as given, else built from <c>host</c> or <c>server</c> (SRV), credentials and <c>params</c>.</summary>
    internal static string ConnectionString(IReadOnlyDictionary<string, string> metadata, string database)
    {
        string? Get(string name) => metadata.TryGetValue(name, out var v) && !string.IsNullOrEmpty(v) ? v : null;
        if (Get("connectionString") is { } given)
        {
            return given;
        }
        var host = Get("host");
        var server = Get("server");
        if ((host is null) == (server is null))
        {
            throw new ArgumentException("set exactly one of 'host' and 'server' (or 'connectionString')", host is null ? "host" : "server");
        }
        var parameters = Get("params") is { } p ? (p.StartsWith('?') ? p : "?" + p) : "";
        var credentials = Get("username") is { } user && Get("password") is { } password
            ? $"{Uri.EscapeDataString(user)}:{Uri.EscapeDataString(password)}@"
            : "";
        return server is not null
            ? $"mongodb+srv://{credentials}{server}/{(credentials.Length > 0 ? database : "")}{parameters}"
            : $"mongodb://{credentials}{host}/{database}{parameters}";
    }

    public async Task InitAsync(CancellationToken cancellationToken)
    {
        var settings = MongoClientSettings.FromUrl(_url);
        settings.ApplicationName = settings.ApplicationName is { } app ? $"daprshop-sidecar:{app}" : "daprshop-sidecar";
        settings.ServerSelectionTimeout = _timeout;
        _client = new MongoClient(settings);
        _collection = _client.GetDatabase(_database).GetCollection<BsonDocument>(_collectionName)
            .WithWriteConcern(_writeConcern).WithReadConcern(_readConcern);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            await _client.GetDatabase(_database).RunCommandAsync<BsonDocument>(new BsonDocument("ping", 1), cancellationToken: timeout.Token);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException or MongoException)
        {
            throw new InvalidOperationException($"component '{_context.Name}' (state.mongodb) cannot reach MongoDB at {string.Join(",", _url.Servers)}: {ex.Message}", ex);
        }
    }

    public async Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var document = await Collection.Find(LiveWith(new BsonDocument(Id, key))).FirstOrDefaultAsync(cancellationToken);
        return document is null ? null : ToEntry(document);
    }

    public Task<string> SetAsync(SetOperation operation, CancellationToken cancellationToken) => SetAsync(null, operation, cancellationToken);

    public Task DeleteAsync(DeleteOperation operation, CancellationToken cancellationToken) => DeleteAsync(null, operation, cancellationToken);

    public async Task TransactAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(_url.ReplicaSetName))
        {
            throw new InvalidOperationException("using transactions with MongoDB requires connecting to a replica set");
        }
        using var session = await _client!.StartSessionAsync(cancellationToken: cancellationToken);
        await session.WithTransactionAsync(async (s, ct) =>
        {
            foreach (var op in operations)
            {
                if (op is SetOperation set)
                {
                    await SetAsync(s, set, ct);
                }
                else
                {
                    await DeleteAsync(s, (DeleteOperation)op, ct);
                }
            }
            return true;
        }, new TransactionOptions(ReadConcern.Snapshot, writeConcern: WriteConcern.WMajority), cancellationToken);
    }

    public async Task<IReadOnlyList<StateQueryItem>> ListAsync(string keyPrefix, int limit, CancellationToken cancellationToken)
    {
        var filter = LiveWith(new BsonDocument(Id, new BsonRegularExpression("^" + Regex.Escape(keyPrefix))));
        var documents = await Collection.Find(filter).Sort(new BsonDocument(Id, 1)).Limit(limit).ToListAsync(cancellationToken);
        var items = new List<StateQueryItem>(documents.Count);
        foreach (var document in documents)
        {
            var entry = ToEntry(document);
            items.Add(new StateQueryItem(document[Id].AsString, entry.Value, entry.ETag));
        }
        return items;
    }

    private async Task<string> SetAsync(IClientSessionHandle? session, SetOperation operation, CancellationToken ct)
    {
        var (filter, update, etag) = Upsert(operation);
        try
        {
            var options = new UpdateOptions { IsUpsert = true };
            _ = session is null
                ? await Collection.UpdateOneAsync(filter, PipelineDefinition<BsonDocument, BsonDocument>.Create(update), options, ct)
                : await Collection.UpdateOneAsync(session, filter, PipelineDefinition<BsonDocument, BsonDocument>.Create(update), options, ct);
            return etag;
        }
        catch (MongoWriteException ex) when (ex.WriteError.Category == ServerErrorCategory.DuplicateKey)
        {
            throw new ETagMismatchException(operation.Key);
        }
    }

    private async Task DeleteAsync(IClientSessionHandle? session, DeleteOperation operation, CancellationToken ct)
    {
        var filter = new BsonDocument(Id, operation.Key);
        if (!string.IsNullOrEmpty(operation.ETag))
        {
            filter[ETag] = operation.ETag;
        }
        var result = session is null ? await Collection.DeleteOneAsync(filter, ct) : await Collection.DeleteOneAsync(session, filter, cancellationToken: ct);
        if (result.DeletedCount == 0 && !string.IsNullOrEmpty(operation.ETag))
        {
            throw new ETagMismatchException(operation.Key);
        }
    }

    /// <summary>
    /// daprd's upsert: filtered by key, and by ETag when one is given — or, for first-write without one, by a fresh
    /// ETag no document has, so a present key makes the upsert insert a duplicate <c>_id</c>; the update pipeline sets
    /// the value and a new ETag and computes <c>_ttl</c> from the server's clock (<c>$$NOW</c>), or clears it.
    /// </summary>
    internal static (BsonDocument Filter, BsonDocument[] Update, string ETag) Upsert(SetOperation operation)
    {
        var filter = new BsonDocument(Id, operation.Key);
        if (!string.IsNullOrEmpty(operation.ETag))
        {
            filter[ETag] = operation.ETag;
        }
        else if (operation.Concurrency == Concurrency.FirstWrite)
        {
            filter[ETag] = Guid.NewGuid().ToString();
        }
        var etag = Guid.NewGuid().ToString();
        BsonValue ttl = operation.Ttl is { } t
            ? new BsonDocument("$add", new BsonArray { "$$NOW", (long)Math.Ceiling(t.TotalMilliseconds) })
            : BsonNull.Value;
        var stages = new[]
        {
            // In an update pipeline a string such as "$x" would be read as a field path: $literal keeps the value as it is.
            new BsonDocument("$set", new BsonDocument { { Id, operation.Key }, { Value, new BsonDocument("$literal", Encode(operation.Value)) }, { ETag, etag } }),
            new BsonDocument("$addFields", new BsonDocument(Ttl, ttl)),
        };
        return (filter, stages, etag);
    }

    /// <summary>As daprd stores the bytes it is given: their text. Bytes that are not UTF-8 (protobuf state) stay binary.</summary>
    internal static BsonValue Encode(byte[] value)
    {
        try
        {
            return new BsonString(new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(value));
        }
        catch (DecoderFallbackException)
        {
            return new BsonBinaryData(value);
        }
    }

    /// <summary>A stored value as bytes: a string's text, binary as is, a document or array (written by daprd from a JSON value) as relaxed JSON.</summary>
    internal static byte[] Decode(BsonValue value) => value switch
    {
        BsonString s => Encoding.UTF8.GetBytes(s.Value),
        BsonBinaryData b => b.Bytes,
        BsonDocument or BsonArray => Encoding.UTF8.GetBytes(value.ToJson(new JsonWriterSettings { OutputMode = JsonOutputMode.RelaxedExtendedJson })),
        _ => ScalarJson(value),
    };

    // A lone number, boolean or date has no JSON of its own in the driver: it is written inside a document and taken out.
    private static byte[] ScalarJson(BsonValue value)
    {
        using var json = System.Text.Json.JsonDocument.Parse(new BsonDocument("v", value).ToJson(new JsonWriterSettings { OutputMode = JsonOutputMode.RelaxedExtendedJson }));
        return Encoding.UTF8.GetBytes(json.RootElement.GetProperty("v").GetRawText());
    }

    internal static StateEntry ToEntry(BsonDocument document) => new(
        Decode(document.GetValue(Value, BsonNull.Value)),
        document.GetValue(ETag, BsonString.Empty).AsString,
        document.GetValue(Ttl, BsonNull.Value) is BsonDateTime at ? new DateTimeOffset(at.ToUniversalTime()) : null);

    /// <summary>daprd's read filter: MongoDB removes expired documents late, so reads skip those whose <c>_ttl</c> has passed.</summary>
    internal static BsonDocument LiveWith(BsonDocument filter) => new("$and", new BsonArray
    {
        filter,
        new BsonDocument("$expr", new BsonDocument("$or", new BsonArray
        {
            new BsonDocument("$eq", new BsonArray { "$" + Ttl, BsonNull.Value }),
            new BsonDocument("$gte", new BsonArray { "$" + Ttl, "$$NOW" }),
        })),
    });

    public ValueTask DisposeAsync()
    {
        _client?.Dispose();
        return ValueTask.CompletedTask;
    }
}
