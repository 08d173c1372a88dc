using System.Text.Json;

namespace DaprShop.Sidecar.Components.State;

/// <summary>Dapr's state query language: a filter tree over the JSON value's fields, sort keys and a page.</summary>
public sealed record StateQuery(QueryFilter? Filter, IReadOnlyList<QuerySort> Sort, int Limit, string? Token)
{
    private static readonly HashSet<string> Comparisons = ["EQ", "NEQ", "GT", "GTE", "LT", "LTE", "IN"];

    /// <summary>Parses <c>{"filter":..,"sort":[..],"page":{"limit":n,"token":".."}}</c>; throws <see cref="FormatException"/> naming the part.</summary>
    public static StateQuery Parse(ReadOnlySpan<byte> json)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json.ToArray());
        }
        catch (JsonException ex)
        {
            throw new FormatException($"query is not valid JSON: {ex.Message}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("query must be a JSON object");
            }
            var filter = root.TryGetProperty("filter", out var f) && f.ValueKind != JsonValueKind.Null ? ParseFilter(f) : null;
            var sort = new List<QuerySort>();
            if (root.TryGetProperty("sort", out var s) && s.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in s.EnumerateArray())
                {
                    var key = item.TryGetProperty("key", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString()! : throw new FormatException("sort entries need a 'key'");
                    var order = item.TryGetProperty("order", out var o) ? o.GetString() ?? "ASC" : "ASC";
                    if (order is not ("ASC" or "DESC"))
                    {
                        throw new FormatException($"sort order must be ASC or DESC, not '{order}'");
                    }
                    sort.Add(new QuerySort(key, order == "DESC"));
                }
            }
            var limit = 0;
            string? token = null;
            if (root.TryGetProperty("page", out var p) && p.ValueKind == JsonValueKind.Object)
            {
                if (p.TryGetProperty("limit", out var l))
                {
                    limit = l.TryGetInt32(out var n) && n >= 0 ? n : throw new FormatException("page.limit must be a non-negative integer");
                }
                if (p.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String)
                {
                    token = t.GetString();
                }
            }
            return new StateQuery(filter, sort, limit, token);
        }
    }

    private static QueryFilter ParseFilter(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("a filter must be an object such as {\"EQ\": {\"field\": value}}");
        }
        var props = e.EnumerateObject().ToList();
        if (props.Count != 1)
        {
            throw new FormatException("a filter has exactly one operator");
        }
        var op = props[0].Name;
        var body = props[0].Value;
        if (op is "AND" or "OR")
        {
            if (body.ValueKind != JsonValueKind.Array || body.GetArrayLength() < 2)
            {
                throw new FormatException($"{op} takes a list of at least two filters");
            }
            return new LogicalFilter(op, body.EnumerateArray().Select(ParseFilter).ToList());
        }
        if (!Comparisons.Contains(op))
        {
            throw new FormatException($"unknown filter operator '{op}'");
        }
        var fields = body.ValueKind == JsonValueKind.Object ? body.EnumerateObject().ToList() : [];
        if (fields.Count != 1)
        {
            throw new FormatException($"{op} takes one field: {{\"{op}\": {{\"field\": value}}}}");
        }
        var value = fields[0].Value.Clone();
        if (op == "IN" && value.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("IN takes a list of values");
        }
        return new ComparisonFilter(op, fields[0].Name, value);
    }
}

public abstract record QueryFilter;

/// <summary>AND / OR over sub-filters.</summary>
public sealed record LogicalFilter(string Operator, IReadOnlyList<QueryFilter> Filters) : QueryFilter;

/// <summary>EQ, NEQ, GT, GTE, LT, LTE or IN on a dotted field path of the value.</summary>
public sealed record ComparisonFilter(string Operator, string Field, JsonElement Value) : QueryFilter;

public sealed record QuerySort(string Field, bool Descending);
