using DaprShop.Sidecar.Configuration;
using DaprShop.Sidecar.Hosting;
using DaprShop.Sidecar.Resiliency;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace DaprShop.Sidecar.Resources;

/// <summary>
/// Reads Dapr resource files (Component, Subscription, Resiliency) from the resources folders and the
/// Configuration file, the way daprd does in self-hosted mode: every <c>*.yaml</c>/<c>*.yml</c> file of each
/// folder, several documents per file allowed, other kinds skipped.
/// </summary>
public static class ResourceLoader
{
    private static readonly IEnumerable<KeyValuePair<YamlNode, YamlNode>> NoChildren = [];

    public static LoadedResources Load(IEnumerable<string> resourcesPaths, string? configPath, string appId)
    {
        var components = new List<ComponentResource>();
        var subscriptions = new List<DeclarativeSubscription>();
        var resiliencies = new List<ResiliencyResource>();
        var resiliencyDocs = new List<(string File, YamlMappingNode Doc, ResiliencyPolicies Policies)>();

        foreach (var folder in resourcesPaths)
        {
            if (!Directory.Exists(folder))
            {
                throw new SidecarStartupException($"resources path '{folder}' does not exist");
            }
            foreach (var file in Directory.EnumerateFiles(folder).Where(IsYaml).Order(StringComparer.Ordinal))
            {
                foreach (var (doc, index) in ReadDocuments(file).Select((d, i) => (d, i)))
                {
                    var kind = (YamlNodes.Child(doc, "kind") as YamlScalarNode)?.Value;
                    switch (kind)
                    {
                        case "Component":
                            components.Add(ParseComponent(file, doc));
                            break;
                        case "Subscription":
                            var sub = ParseSubscription(file, doc);
                            if (sub.Scopes.Count == 0 || sub.Scopes.Contains(appId))
                            {
                                subscriptions.Add(sub);
                            }
                            break;
                        case "Resiliency":
                            var policies = ParseResiliencyPolicies(file, doc);
                            var scopes = new YamlNodes(file, "Resiliency").StrList(doc, "scopes", "");
                            if (scopes.Count == 0 || scopes.Contains(appId))
                            {
                                resiliencyDocs.Add((file, doc, policies));
                            }
                            break;
                        case null:
                            throw new SidecarStartupException($"{file}: document {index + 1}: field 'kind' is required");
                        default:
                            // Configuration, HTTPEndpoint and other kinds are not components; daprd skips them here too.
                            break;
                    }
                }
            }
        }

        // As in daprd, the policies of every Resiliency resource this app loads form one set (a later file's policy of
        // the same name wins), so a target may name a policy another file defines.
        var allPolicies = new ResiliencyPolicies([], [], []);
        foreach (var (_, _, policies) in resiliencyDocs)
        {
            foreach (var (k, v) in policies.Timeouts)
            {
                allPolicies.Timeouts[k] = v;
            }
            foreach (var (k, v) in policies.Retries)
            {
                allPolicies.Retries[k] = v;
            }
            foreach (var (k, v) in policies.Breakers)
            {
                allPolicies.Breakers[k] = v;
            }
        }
        resiliencies.AddRange(resiliencyDocs.Select(r => ParseResiliency(r.File, r.Doc, r.Policies, allPolicies)));

        // Components scoped to other apps are dropped first (a runtime loads only its app's), so one name may be
        // bound per app (each service its own database, say); two definitions of a name this app sees are an error.
        var inScope = components.Where(c => c.IsInScope(appId)).ToList();
        var duplicate = inScope.GroupBy(c => c.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new SidecarStartupException(
                $"component name '{duplicate.Key}' is defined more than once for app '{appId}': {string.Join(", ", duplicate.Select(c => c.Origin.File))}");
        }

        var configuration = configPath is null ? SidecarConfiguration.Default : LoadConfiguration(configPath);
        return new LoadedResources(inScope, subscriptions, resiliencies, configuration);
    }

    private static bool IsYaml(string path) =>
        path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);

    private static List<YamlMappingNode> ReadDocuments(string file)
    {
        var stream = new YamlStream();
        try
        {
            using var reader = new StreamReader(file);
            stream.Load(reader);
        }
        catch (YamlException ex)
        {
            throw new SidecarStartupException($"{file}: malformed YAML at line {ex.Start.Line}, column {ex.Start.Column}: {ex.InnerException?.Message ?? ex.Message}");
        }

        var docs = new List<YamlMappingNode>();
        foreach (var doc in stream.Documents)
        {
            switch (doc.RootNode)
            {
                case YamlMappingNode map:
                    docs.Add(map);
                    break;
                case YamlScalarNode { Value: null or "" }:
                    break; // an empty document between separators
                default:
                    throw new SidecarStartupException($"{file}: line {doc.RootNode.Start.Line}: a resource must be a YAML mapping");
            }
        }
        return docs;
    }

    internal static ComponentResource ParseComponent(string file, YamlMappingNode doc)
    {
        var probe = new YamlNodes(file, "Component");
        var meta = probe.Map(doc, "metadata", "", required: true)!;
        var name = probe.Str(meta, "name", "metadata", required: true)!;
        var y = new YamlNodes(file, $"component '{name}'");

        var apiVersion = y.Str(doc, "apiVersion", "", required: true);
        if (apiVersion != "dapr.io/v1alpha1")
        {
            throw y.Error("apiVersion", $"must be dapr.io/v1alpha1, not '{apiVersion}'");
        }

        var spec = y.Map(doc, "spec", "", required: true)!;
        var type = y.Str(spec, "type", "spec", required: true)!;
        var version = y.Str(spec, "version", "spec", required: true)!;
        var ignoreErrors = y.Bool(spec, "ignoreErrors", "spec");

        var items = new List<MetadataItem>();
        var seq = y.Seq(spec, "metadata", "spec");
        if (seq is not null)
        {
            var i = 0;
            foreach (var node in seq.Children)
            {
                var path = $"spec.metadata[{i}]";
                if (node is not YamlMappingNode entry)
                {
                    throw y.Error(path, "must be a mapping with 'name' and 'value'");
                }
                var itemName = y.Str(entry, "name", path, required: true)!;
                var value = YamlNodes.Child(entry, "value") switch
                {
                    null => null,
                    YamlScalarNode s => s.Value ?? "",
                    _ => throw y.Error($"{path}.value", $"of '{itemName}' must be a string; quote numbers and JSON"),
                };
                SecretKeyRef? secretRef = null;
                var refMap = y.Map(entry, "secretKeyRef", path);
                if (refMap is not null)
                {
                    var refName = y.Str(refMap, "name", $"{path}.secretKeyRef", required: true)!;
                    var refKey = y.Str(refMap, "key", $"{path}.secretKeyRef") ?? refName;
                    secretRef = new SecretKeyRef(refName, refKey);
                }
                var envRef = y.Str(entry, "envRef", path);
                var sources = (value is null ? 0 : 1) + (secretRef is null ? 0 : 1) + (envRef is null ? 0 : 1);
                if (sources > 1)
                {
                    throw y.Error(path, $"'{itemName}' may have only one of value, secretKeyRef and envRef");
                }
                items.Add(new MetadataItem(itemName, value, secretRef, envRef));
                i++;
            }
        }

        var auth = y.Map(doc, "auth", "");
        var secretStore = auth is null ? null : y.Str(auth, "secretStore", "auth");
        var scopes = y.StrList(doc, "scopes", "");
        return new ComponentResource(new ResourceOrigin(file, "Component", name), name, type, version, ignoreErrors, items, scopes, secretStore);
    }

    private static DeclarativeSubscription ParseSubscription(string file, YamlMappingNode doc)
    {
        var probe = new YamlNodes(file, "Subscription");
        var meta = probe.Map(doc, "metadata", "", required: true)!;
        var name = probe.Str(meta, "name", "metadata", required: true)!;
        var y = new YamlNodes(file, $"subscription '{name}'");
        var apiVersion = y.Str(doc, "apiVersion", "", required: true);
        var spec = y.Map(doc, "spec", "", required: true)!;
        var pubsub = y.Str(spec, "pubsubname", "spec", required: true)!;
        var topic = y.Str(spec, "topic", "spec", required: true)!;
        var rules = new List<RouteRule>();
        string? defaultRoute;
        switch (apiVersion)
        {
            case "dapr.io/v1alpha1":
                defaultRoute = y.Str(spec, "route", "spec", required: true);
                break;
            case "dapr.io/v2alpha1":
                var routes = y.Map(spec, "routes", "spec", required: true)!;
                defaultRoute = y.Str(routes, "default", "spec.routes");
                var ruleSeq = y.Seq(routes, "rules", "spec.routes");
                var i = 0;
                foreach (var node in ruleSeq?.Children ?? [])
                {
                    var path = $"spec.routes.rules[{i++}]";
                    if (node is not YamlMappingNode rule)
                    {
                        throw y.Error(path, "must be a mapping with 'match' and 'path'");
                    }
                    var match = y.Str(rule, "match", path, required: true)!;
                    RuleMatcher.Validate(match, m => y.Error($"{path}.match", m));
                    rules.Add(new RouteRule(match, y.Str(rule, "path", path, required: true)!));
                }
                if (defaultRoute is null && rules.Count == 0)
                {
                    throw y.Error("spec.routes", "needs a 'default' route or at least one rule");
                }
                break;
            default:
                throw y.Error("apiVersion", $"must be dapr.io/v1alpha1 or dapr.io/v2alpha1, not '{apiVersion}'");
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var metaMap = y.Map(spec, "metadata", "spec");
        foreach (var (k, v) in metaMap?.Children ?? NoChildren)
        {
            metadata[((YamlScalarNode)k).Value!] = (v as YamlScalarNode)?.Value ?? "";
        }
        var bulk = y.Map(spec, "bulkSubscribe", "spec");
        var definition = new SubscriptionDefinition(
            pubsub, topic, rules, defaultRoute, y.Str(spec, "deadLetterTopic", "spec"), metadata,
            bulk is null ? null : BulkSubscribeOptions.From(y.Bool(bulk, "enabled", "spec.bulkSubscribe"),
                y.Int(bulk, "maxMessagesCount", "spec.bulkSubscribe"), y.Int(bulk, "maxAwaitDurationMs", "spec.bulkSubscribe")),
            "DECLARATIVE", name);
        return new DeclarativeSubscription(new ResourceOrigin(file, "Subscription", name), definition, y.StrList(doc, "scopes", ""));
    }

    private sealed record ResiliencyPolicies(Dictionary<string, TimeSpan> Timeouts, Dictionary<string, RetryPolicy> Retries, Dictionary<string, CircuitBreakerPolicy> Breakers);

    private static (YamlNodes Y, string Name, YamlMappingNode Spec) ResiliencyDocument(string file, YamlMappingNode doc)
    {
        var probe = new YamlNodes(file, "Resiliency");
        var meta = probe.Map(doc, "metadata", "", required: true)!;
        var name = probe.Str(meta, "name", "metadata", required: true)!;
        var y = new YamlNodes(file, $"resiliency '{name}'");
        return (y, name, y.Map(doc, "spec", "", required: true)!);
    }

    private static ResiliencyPolicies ParseResiliencyPolicies(string file, YamlMappingNode doc)
    {
        var (y, _, spec) = ResiliencyDocument(file, doc);
        var policies = y.Map(spec, "policies", "spec");

        var timeouts = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        var retries = new Dictionary<string, RetryPolicy>(StringComparer.Ordinal);
        var breakers = new Dictionary<string, CircuitBreakerPolicy>(StringComparer.Ordinal);
        if (policies is not null)
        {
            foreach (var (k, v) in y.Map(policies, "timeouts", "spec.policies")?.Children ?? NoChildren)
            {
                var key = ((YamlScalarNode)k).Value!;
                timeouts[key] = Duration(y, (v as YamlScalarNode)?.Value, $"spec.policies.timeouts.{key}");
            }
            foreach (var (k, v) in y.Map(policies, "retries", "spec.policies")?.Children ?? NoChildren)
            {
                var key = ((YamlScalarNode)k).Value!;
                var path = $"spec.policies.retries.{key}";
                var map = v as YamlMappingNode ?? throw y.Error(path, "must be a mapping");
                var kind = y.Str(map, "policy", path) ?? "constant";
                var backoff = kind switch
                {
                    "constant" => BackoffKind.Constant,
                    "exponential" => BackoffKind.Exponential,
                    _ => throw y.Error($"{path}.policy", $"must be constant or exponential, not '{kind}'"),
                };
                var duration = y.Str(map, "duration", path) is { } d ? Duration(y, d, $"{path}.duration") : (backoff == BackoffKind.Constant ? TimeSpan.FromSeconds(5) : TimeSpan.Zero);
                var maxInterval = y.Str(map, "maxInterval", path) is { } mi ? Duration(y, mi, $"{path}.maxInterval") : TimeSpan.FromSeconds(60);
                var matching = y.Map(map, "matching", path);
                retries[key] = new RetryPolicy(key, backoff, duration, maxInterval, y.Int(map, "maxRetries", path) ?? -1,
                    StatusCodes(y, matching, "httpStatusCodes", $"{path}.matching", 100, 599), StatusCodes(y, matching, "gRPCStatusCodes", $"{path}.matching", 0, 16));
            }
            foreach (var (k, v) in y.Map(policies, "circuitBreakers", "spec.policies")?.Children ?? NoChildren)
            {
                var key = ((YamlScalarNode)k).Value!;
                var path = $"spec.policies.circuitBreakers.{key}";
                var map = v as YamlMappingNode ?? throw y.Error(path, "must be a mapping");
                var trip = y.Str(map, "trip", path) ?? "consecutiveFailures > 5"; // daprd's default trip
                breakers[key] = new CircuitBreakerPolicy(key,
                    y.Int(map, "maxRequests", path) ?? 1,
                    y.Str(map, "interval", path) is { } iv ? Duration(y, iv, $"{path}.interval") : TimeSpan.Zero,
                    y.Str(map, "timeout", path) is { } to ? Duration(y, to, $"{path}.timeout") : TimeSpan.FromSeconds(60),
                    ParseTrip(y, trip, $"{path}.trip"));
            }
        }
        return new ResiliencyPolicies(timeouts, retries, breakers);
    }

    /// <summary>A Resiliency resource's targets, their policy names resolved against <paramref name="all"/> (every file's).</summary>
    private static ResiliencyResource ParseResiliency(string file, YamlMappingNode doc, ResiliencyPolicies own, ResiliencyPolicies all)
    {
        var (y, name, spec) = ResiliencyDocument(file, doc);
        var (timeouts, retries, breakers) = (all.Timeouts, all.Retries, all.Breakers);

        TargetPolicies Target(YamlNode node, string path)
        {
            var map = node as YamlMappingNode ?? throw y.Error(path, "must be a mapping");
            var timeoutRef = y.Str(map, "timeout", path);
            var retryRef = y.Str(map, "retry", path);
            var breakerRef = y.Str(map, "circuitBreaker", path);
            TimeSpan? timeout = null;
            if (timeoutRef is not null)
            {
                // A target may name a policy or give a duration inline.
                timeout = timeouts.TryGetValue(timeoutRef, out var t) ? t
                    : Durations.TryParse(timeoutRef, out var inline) ? inline
                    : throw y.Error($"{path}.timeout", $"names no timeout policy: '{timeoutRef}'");
            }
            var cacheSize = y.Int(map, "circuitBreakerCacheSize", path);
            if (cacheSize is <= 0)
            {
                throw y.Error($"{path}.circuitBreakerCacheSize", $"must be a positive number, not {cacheSize}");
            }
            return new TargetPolicies(
                timeout,
                retryRef is null ? null : retries.GetValueOrDefault(retryRef) ?? throw y.Error($"{path}.retry", $"names no retry policy: '{retryRef}'"),
                breakerRef is null ? null : breakers.GetValueOrDefault(breakerRef) ?? throw y.Error($"{path}.circuitBreaker", $"names no circuit breaker: '{breakerRef}'"))
            {
                BreakerCacheSize = cacheSize,
            };
        }

        // daprd refuses an actor breaker without a scope ("actor circuit breakers must include scope").
        TargetPolicies ActorTarget(YamlNode node, string path)
        {
            var target = Target(node, path);
            var scope = node is YamlMappingNode map ? y.Str(map, "circuitBreakerScope", path) : null;
            if (scope is null)
            {
                return target.CircuitBreaker is null ? target
                    : throw y.Error($"{path}.circuitBreakerScope", "is required with a circuitBreaker: id, type or both");
            }
            return target with
            {
                BreakerScope = scope switch
                {
                    "type" => ActorBreakerScope.Type,
                    "id" => ActorBreakerScope.Id,
                    "both" => ActorBreakerScope.Both,
                    _ => throw y.Error($"{path}.circuitBreakerScope", $"must be id, type or both, not '{scope}'"),
                },
            };
        }

        var targets = y.Map(spec, "targets", "spec");
        var apps = new Dictionary<string, TargetPolicies>(StringComparer.Ordinal);
        var outbound = new Dictionary<string, TargetPolicies>(StringComparer.Ordinal);
        var inbound = new Dictionary<string, TargetPolicies>(StringComparer.Ordinal);
        var actors = new Dictionary<string, TargetPolicies>(StringComparer.Ordinal);
        if (targets is not null)
        {
            foreach (var (k, v) in y.Map(targets, "apps", "spec.targets")?.Children ?? NoChildren)
            {
                var key = ((YamlScalarNode)k).Value!;
                apps[key] = Target(v, $"spec.targets.apps.{key}");
            }
            foreach (var (k, v) in y.Map(targets, "actors", "spec.targets")?.Children ?? NoChildren)
            {
                var key = ((YamlScalarNode)k).Value!;
                actors[key] = ActorTarget(v, $"spec.targets.actors.{key}");
            }
            foreach (var (k, v) in y.Map(targets, "components", "spec.targets")?.Children ?? NoChildren)
            {
                var key = ((YamlScalarNode)k).Value!;
                var path = $"spec.targets.components.{key}";
                var map = v as YamlMappingNode ?? throw y.Error(path, "must be a mapping with inbound and/or outbound");
                if (YamlNodes.Child(map, "outbound") is { } o)
                {
                    outbound[key] = Target(o, $"{path}.outbound");
                }
                if (YamlNodes.Child(map, "inbound") is { } i)
                {
                    inbound[key] = Target(i, $"{path}.inbound");
                }
            }
        }
        return new ResiliencyResource(name, file, apps, outbound, inbound, actors, y.StrList(doc, "scopes", ""))
        {
            Namespace = y.Str(y.Map(doc, "metadata", "")!, "namespace", "metadata") ?? "",
            Timeouts = own.Timeouts,
            Retries = own.Retries,
            CircuitBreakers = own.Breakers,
        };
    }

    /// <summary>A policy's duration as daprd reads it: Go's form (<c>5s</c>, <c>1m30s</c>), or a bare number of milliseconds.</summary>
    private static TimeSpan Duration(YamlNodes y, string? text, string field) =>
        long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var ms) && ms >= 0 ? TimeSpan.FromMilliseconds(ms)
        : Durations.TryParse(text, out var d) ? d
        : throw y.Error(field, $"must be a duration such as 5s, 1m30s or 500 (milliseconds), not '{text}'");

    /// <summary>A list of codes and ranges (<c>500,502-504</c>) within <paramref name="min"/>..<paramref name="max"/>, as daprd validates them.</summary>
    private static HashSet<int> StatusCodes(YamlNodes y, YamlMappingNode? matching, string key, string path, int min, int max)
    {
        var set = new HashSet<int>();
        var text = matching is null ? null : y.Str(matching, key, path);
        if (string.IsNullOrWhiteSpace(text))
        {
            return set;
        }
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var range = part.Split('-');
            if (range.Length is 1 or 2 && int.TryParse(range[0], out var lo) && int.TryParse(range[^1], out var hi) && lo <= hi && lo >= min && hi <= max)
            {
                for (var code = lo; code <= hi; code++)
                {
                    set.Add(code);
                }
            }
            else
            {
                throw y.Error($"{path}.{key}", $"has an invalid code or range '{part}' (codes are {min} to {max})");
            }
        }
        return set;
    }

    // Dapr accepts a CEL expression; the form every Dapr sample uses is "consecutiveFailures > N" (or >=).
    private static int ParseTrip(YamlNodes y, string trip, string field)
    {
        var m = System.Text.RegularExpressions.Regex.Match(trip, @"^\s*consecutiveFailures\s*(>=|>)\s*(\d+)\s*$");
        if (!m.Success)
        {
            throw y.Error(field, $"'{trip}' is not supported: use 'consecutiveFailures > N' or 'consecutiveFailures >= N'");
        }
        var n = int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        return m.Groups[1].Value == ">" ? n + 1 : n;
    }

    public static SidecarConfiguration LoadConfiguration(string path)
    {
        if (!File.Exists(path))
        {
            throw new SidecarStartupException($"configuration file '{path}' does not exist");
        }
        var doc = ReadDocuments(path).FirstOrDefault(d => (YamlNodes.Child(d, "kind") as YamlScalarNode)?.Value == "Configuration")
            ?? throw new SidecarStartupException($"{path}: no document of kind Configuration");
        var y = new YamlNodes(path, "configuration");
        var spec = y.Map(doc, "spec", "") ?? new YamlMappingNode();

        var sampling = 1.0;
        string? otel = null;
        var tracing = y.Map(spec, "tracing", "spec");
        if (tracing is not null)
        {
            var rate = y.Str(tracing, "samplingRate", "spec.tracing");
            if (rate is not null && !double.TryParse(rate, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out sampling))
            {
                throw y.Error("spec.tracing.samplingRate", $"must be a number between 0 and 1, not '{rate}'");
            }
            var otelMap = y.Map(tracing, "otel", "spec.tracing");
            if (otelMap is not null)
            {
                otel = y.Str(otelMap, "endpointAddress", "spec.tracing.otel");
                if (otel is not null && !otel.Contains("://", StringComparison.Ordinal))
                {
                    otel = (y.Bool(otelMap, "isSecure", "spec.tracing.otel") ? "https://" : "http://") + otel;
                }
            }
        }

        AccessControl? acl = null;
        var aclMap = y.Map(spec, "accessControl", "spec");
        if (aclMap is not null)
        {
            var policies = new List<AccessPolicy>();
            var i = 0;
            foreach (var node in y.Seq(aclMap, "policies", "spec.accessControl")?.Children ?? [])
            {
                var policyPath = $"spec.accessControl.policies[{i++}]";
                var p = node as YamlMappingNode ?? throw y.Error(policyPath, "must be a mapping");
                var ops = new List<AccessOperation>();
                var j = 0;
                foreach (var opNode in y.Seq(p, "operations", policyPath)?.Children ?? [])
                {
                    var opPath = $"{policyPath}.operations[{j++}]";
                    var op = opNode as YamlMappingNode ?? throw y.Error(opPath, "must be a mapping");
                    ops.Add(new AccessOperation(y.Str(op, "name", opPath, required: true)!, y.StrList(op, "httpVerb", opPath), Action(y, y.Str(op, "action", opPath, required: true)!, $"{opPath}.action")));
                }
                policies.Add(new AccessPolicy(y.Str(p, "appId", policyPath, required: true)!, Action(y, y.Str(p, "defaultAction", policyPath) ?? "allow", $"{policyPath}.defaultAction"), ops));
            }
            acl = new AccessControl(Action(y, y.Str(aclMap, "defaultAction", "spec.accessControl") ?? "allow", "spec.accessControl.defaultAction"), policies);
        }

        var features = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var f = 0;
        foreach (var node in y.Seq(spec, "features", "spec")?.Children ?? [])
        {
            var featurePath = $"spec.features[{f++}]";
            var feature = node as YamlMappingNode ?? throw y.Error(featurePath, "must be a mapping with name and enabled");
            if (y.Bool(feature, "enabled", featurePath))
            {
                features.Add(y.Str(feature, "name", featurePath, required: true)!);
            }
        }

        var allowed = new List<ApiRule>();
        var denied = new List<ApiRule>();
        var api = y.Map(spec, "api", "spec");
        if (api is not null)
        {
            ReadApiRules(y, api, "allowed", allowed);
            ReadApiRules(y, api, "denied", denied);
        }

        var metrics = y.Map(spec, "metrics", "spec");
        return new SidecarConfiguration(sampling, otel, acl, features, allowed, denied)
        {
            MetricsEnabled = metrics is null || y.Bool(metrics, "enabled", "spec.metrics", fallback: true),
            WorkflowRetention = ReadWorkflowRetention(y, spec),
            SecretScopes = ReadSecretScopes(y, spec),
        };
    }

    private static Dictionary<string, SecretScope> ReadSecretScopes(YamlNodes y, YamlMappingNode spec)
    {
        var scopes = new Dictionary<string, SecretScope>(StringComparer.Ordinal);
        var secrets = y.Map(spec, "secrets", "spec");
        var i = 0;
        foreach (var node in (secrets is null ? null : y.Seq(secrets, "scopes", "spec.secrets"))?.Children ?? [])
        {
            var path = $"spec.secrets.scopes[{i++}]";
            var scope = node as YamlMappingNode ?? throw y.Error(path, "must be a mapping");
            var store = y.Str(scope, "storeName", path, required: true)!;
            var access = y.Str(scope, "defaultAccess", path) ?? "";
            if (access.Length > 0 && !access.Equals("allow", StringComparison.OrdinalIgnoreCase) && !access.Equals("deny", StringComparison.OrdinalIgnoreCase))
            {
                throw y.Error($"{path}.defaultAccess", $"must be allow or deny, not '{access}'");
            }
            var read = new SecretScope(
                !access.Equals("deny", StringComparison.OrdinalIgnoreCase),
                y.StrList(scope, "allowedSecrets", path).ToHashSet(StringComparer.Ordinal),
                y.StrList(scope, "deniedSecrets", path).ToHashSet(StringComparer.Ordinal));
            if (!scopes.TryAdd(store, read))
            {
                throw y.Error($"{path}.storeName", $"store '{store}' has more than one scope");
            }
        }
        return scopes;
    }

    private static WorkflowRetentionPolicy? ReadWorkflowRetention(YamlNodes y, YamlMappingNode spec)
    {
        var workflow = y.Map(spec, "workflow", "spec");
        var policy = workflow is null ? null : y.Map(workflow, "stateRetentionPolicy", "spec.workflow");
        if (policy is null)
        {
            return null;
        }
        TimeSpan? Read(string key)
        {
            var text = y.Str(policy, key, "spec.workflow.stateRetentionPolicy");
            if (text is null)
            {
                return null;
            }
            var field = $"spec.workflow.stateRetentionPolicy.{key}";
            var value = Duration(y, text, field);
            return value >= TimeSpan.Zero ? value : throw y.Error(field, $"must not be negative, not '{text}'");
        }
        return new WorkflowRetentionPolicy(Read("anyTerminal"), Read("completed"), Read("failed"), Read("terminated"));
    }

    private static void ReadApiRules(YamlNodes y, YamlMappingNode api, string key, List<ApiRule> into)
    {
        var i = 0;
        foreach (var node in y.Seq(api, key, "spec.api")?.Children ?? [])
        {
            var path = $"spec.api.{key}[{i++}]";
            var rule = node as YamlMappingNode ?? throw y.Error(path, "must be a mapping with name, version and protocol");
            // daprd applies a rule to the protocol it names and ignores one without: here that stops the start, since
            // a rule that silently guards nothing is worse than none.
            var protocol = y.Str(rule, "protocol", path, required: true)!.ToLowerInvariant();
            if (protocol is not ("http" or "grpc"))
            {
                throw y.Error($"{path}.protocol", $"must be http or grpc, not '{protocol}'");
            }
            into.Add(new ApiRule(y.Str(rule, "name", path, required: true)!, y.Str(rule, "version", path, required: true)!, protocol));
        }
    }

    private static string Action(YamlNodes y, string action, string field) =>
        action is "allow" or "deny" ? action : throw y.Error(field, $"must be allow or deny, not '{action}'");
}
