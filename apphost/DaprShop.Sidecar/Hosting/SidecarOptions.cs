using System.Globalization;

namespace DaprShop.Sidecar.Hosting;

/// <summary>
/// The sidecar's settings, taken from daprd's command-line flags so that anything that starts daprd
/// (the Dapr CLI, a multi-app run file, Aspire) can start this sidecar with the same arguments.
/// </summary>
public sealed class SidecarOptions
{
    public string AppId { get; set; } = "";
    public int? AppPort { get; set; }
    public string AppProtocol { get; set; } = "http";
    public string AppChannelAddress { get; set; } = "127.0.0.1";
    public int DaprHttpPort { get; set; } = 3500;
    public int DaprGrpcPort { get; set; } = 50001;
    public string[] ListenAddresses { get; set; } = ["127.0.0.1"];
    public List<string> ResourcesPaths { get; } = [];
    public string? ConfigPath { get; set; }
    public string LogLevel { get; set; } = "info";
    public bool EnableAppHealthCheck { get; set; }
    public string AppHealthCheckPath { get; set; } = "/healthz";
    public TimeSpan AppHealthProbeInterval { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan AppHealthProbeTimeout { get; set; } = TimeSpan.FromMilliseconds(500);
    public int AppHealthThreshold { get; set; } = 3;
    public int AppMaxConcurrency { get; set; } = -1;
    public bool EnableApiLogging { get; set; }

    /// <summary>
    /// <c>--metrics-port</c>: where Prometheus scrapes <c>/metrics</c>. Only when given: daprd's default (9090) would
    /// collide between the sidecars of one machine, which the Dapr CLI avoids by always passing a port.
    /// </summary>
    public int? MetricsPort { get; set; }

    /// <summary><c>--enable-metrics</c> (default true, as in daprd).</summary>
    public bool EnableMetrics { get; set; } = true;
    /// <summary>The largest request body the APIs take (daprd's <c>--max-body-size</c>, or the older <c>--dapr-http-max-request-size</c> in MB).</summary>
    public long MaxRequestBytes { get; set; } = 4L * 1024 * 1024;

    /// <summary><c>--version</c> or <c>--build-info</c>: print and exit, as daprd does.</summary>
    public bool PrintVersionOnly { get; set; }
    public TimeSpan GracefulShutdown { get; set; } = TimeSpan.FromSeconds(5);
    public string Namespace { get; set; } = Environment.GetEnvironmentVariable("NAMESPACE") ?? "";

    /// <summary>The namespace as daprd names it where it must have one (jobs, metrics): <c>default</c> when <c>NAMESPACE</c> is unset.</summary>
    public string NamespaceOrDefault => string.IsNullOrEmpty(Namespace) ? "default" : Namespace;

    /// <summary>Set from <c>DAPR_API_TOKEN</c>: every API call must carry it.</summary>
    public string? ApiToken { get; set; } = NullIfEmpty(Environment.GetEnvironmentVariable("DAPR_API_TOKEN"));

    /// <summary>Set from <c>APP_API_TOKEN</c>: sent to the app on every call the sidecar makes to it.</summary>
    public string? AppApiToken { get; set; } = NullIfEmpty(Environment.GetEnvironmentVariable("APP_API_TOKEN"));

    /// <summary>Folder where the sidecars of one local mesh find each other (DaprShop-only; daprd uses mDNS).</summary>
    public string MeshDirectory { get; set; } = Environment.GetEnvironmentVariable("DAPRSHOP_MESH_DIR")
        ?? Path.Combine(Path.GetTempPath(), "daprshop-mesh");

    /// <summary>The app serves Dapr's AppCallback gRPC service rather than the HTTP callbacks.</summary>
    public bool IsGrpcApp => AppProtocol == "grpc";

    public Uri? AppBaseAddress => AppPort is { } port ? new Uri($"http://{AppChannelAddress}:{port}") : null;

    // daprd uses Go's flag package: one or two dashes, "--x v" or "--x=v", booleans bare or "=true".
    private static readonly HashSet<string> BooleanFlags =
    [
        "enable-app-health-check", "enable-api-logging", "enable-metrics", "enable-profiling",
        "enable-mtls", "disable-builtin-k8s-secret-store", "enable-host-cert-policy",
        "log-as-json", "app-ssl", "version", "build-info", "wait",
    ];

    // Flags daprd accepts that only matter with a control plane or in Kubernetes: taken and ignored.
    private static readonly HashSet<string> IgnoredFlags =
    [
        "mode", "placement-host-address", "scheduler-host-address", "control-plane-address", "sentry-address",
        "dapr-internal-grpc-port", "dapr-internal-grpc-listen-address", "profile-port",
        "enable-profiling", "enable-mtls", "log-as-json", "allowed-origins", "kubernetes-namespace",
        "dapr-public-port", "dapr-public-listen-address", "disable-builtin-k8s-secret-store",
        "unix-domain-socket", "dapr-http-read-buffer-size", "dapr-block-shutdown-duration", "config-file",
        "enable-host-cert-policy", "trust-anchors-file", "trust-domain", "wait", "read-buffer-size",
        "control-plane-trust-domain", "control-plane-namespace", "actors-service", "reminders-service",
        "scheduler-job-streams", "metrics-listen-address", "metrics-push-enable", "metrics-push-endpoint",
    ];

    public static SidecarOptions Parse(IReadOnlyList<string> args)
    {
        var options = new SidecarOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-') || arg == "-" || arg == "--")
            {
                throw new SidecarStartupException($"unexpected argument '{arg}': every setting is a flag, as in daprd");
            }

            var name = arg.TrimStart('-');
            string? value = null;
            var eq = name.IndexOf('=');
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            else if (!BooleanFlags.Contains(name))
            {
                if (i + 1 >= args.Count)
                {
                    throw new SidecarStartupException($"flag needs an argument: -{name}");
                }
                value = args[++i];
            }

            options.Apply(name, value);
        }

        if (options.PrintVersionOnly)
        {
            return options;
        }
        if (string.IsNullOrWhiteSpace(options.AppId))
        {
            // daprd refuses to start without an app id in standalone mode as well.
            throw new SidecarStartupException("the --app-id flag is required");
        }
        if (options.AppId.Contains("||", StringComparison.Ordinal) || options.AppId.Contains('.', StringComparison.Ordinal))
        {
            throw new SidecarStartupException($"invalid app id '{options.AppId}': it may not contain '||' or '.'");
        }
        options.AppProtocol = options.AppProtocol.ToLowerInvariant();
        if (options.AppProtocol is not ("http" or "grpc"))
        {
            throw new SidecarStartupException($"--app-protocol {options.AppProtocol} is not supported by DaprShop's sidecar: use http or grpc (see docs/sidecar.md)");
        }
        if (options.ResourcesPaths.Count == 0)
        {
            var defaultPath = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dapr", "components");
            if (Directory.Exists(defaultPath))
            {
                options.ResourcesPaths.Add(defaultPath);
            }
        }
        return options;
    }

    private void Apply(string name, string? value)
    {
        switch (name)
        {
            case "app-id": AppId = Required(name, value); break;
            case "metrics-port": MetricsPort = ParsePort(name, value); break;
            case "enable-metrics": EnableMetrics = ParseBool(name, value); break;
            // The Dapr CLI passes 0 when no app port was given: daprd then runs without an app channel.
            case "app-port": AppPort = value is null or "" or "-1" or "0" ? null : ParsePort(name, value); break;
            case "app-protocol": AppProtocol = Required(name, value); break;
            case "app-channel-address": AppChannelAddress = Required(name, value); break;
            case "dapr-http-port": DaprHttpPort = ParsePort(name, value); break;
            case "dapr-grpc-port": DaprGrpcPort = ParsePort(name, value); break;
            case "dapr-listen-addresses": ListenAddresses = Required(name, value).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries); break;
            case "resources-path":
            case "components-path":
                ResourcesPaths.Add(Required(name, value)); break;
            case "config": ConfigPath = NullIfEmpty(value); break;
            case "log-level": LogLevel = Required(name, value).ToLowerInvariant(); break;
            case "enable-app-health-check": EnableAppHealthCheck = ParseBool(name, value); break;
            case "app-health-check-path": AppHealthCheckPath = Required(name, value); break;
            case "app-health-probe-interval": AppHealthProbeInterval = TimeSpan.FromSeconds(ParseInt(name, value)); break;
            case "app-health-probe-timeout": AppHealthProbeTimeout = TimeSpan.FromMilliseconds(ParseInt(name, value)); break;
            case "app-health-threshold": AppHealthThreshold = ParseInt(name, value); break;
            case "app-max-concurrency": AppMaxConcurrency = ParseInt(name, value); break;
            case "enable-api-logging": EnableApiLogging = ParseBool(name, value); break;
            case "dapr-http-max-request-size": MaxRequestBytes = ParseInt(name, value) * 1024L * 1024L; break;
            case "max-body-size": MaxRequestBytes = ParseQuantity(name, value); break;
            case "app-ssl" when ParseBool(name, value):
                throw new SidecarStartupException("--app-ssl is not supported by DaprShop's sidecar: the app is called over plain http or grpc (see docs/sidecar.md)");
            case "app-ssl":
                break;
            case "version":
            case "build-info":
                PrintVersionOnly = ParseBool(name, value); break;
            case "dapr-graceful-shutdown-seconds": GracefulShutdown = TimeSpan.FromSeconds(ParseInt(name, value)); break;
            default:
                if (!IgnoredFlags.Contains(name))
                {
                    throw new SidecarStartupException($"flag provided but not defined: -{name}");
                }
                break;
        }
    }

    private static string Required(string name, string? value) =>
        string.IsNullOrEmpty(value) ? throw new SidecarStartupException($"flag -{name} needs a value") : value;

    private static int ParseInt(string name, string? value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new SidecarStartupException($"invalid value \"{value}\" for flag -{name}: not an integer");

    /// <summary>A size as daprd reads it (a Kubernetes quantity): "4Mi", "4M", "512Ki", "1Gi" or plain bytes.</summary>
    private static long ParseQuantity(string name, string? value)
    {
        var match = System.Text.RegularExpressions.Regex.Match(value ?? "", @"^\s*(\d+)\s*(Ki|Mi|Gi|k|K|M|G)?\s*$");
        if (!match.Success)
        {
            throw new SidecarStartupException($"invalid value \"{value}\" for flag -{name}: use a size such as 4Mi");
        }
        var multiplier = match.Groups[2].Value switch
        {
            "Ki" => 1024L,
            "Mi" => 1024L * 1024,
            "Gi" => 1024L * 1024 * 1024,
            "k" or "K" => 1000L,
            "M" => 1000L * 1000,
            "G" => 1000L * 1000 * 1000,
            _ => 1L,
        };
        return long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) * multiplier;
    }

    private static int ParsePort(string name, string? value)
    {
        var port = ParseInt(name, value);
        return port is >= 0 and <= 65535 ? port : throw new SidecarStartupException($"invalid value \"{value}\" for flag -{name}: not a port");
    }

    private static bool ParseBool(string name, string? value) => value switch
    {
        null => true,
        _ when bool.TryParse(value, out var b) => b,
        "1" => true,
        "0" => false,
        _ => throw new SidecarStartupException($"invalid boolean value \"{value}\" for -{name}"),
    };

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}

/// <summary>A problem that stops the sidecar at start, with a message that names what to fix.</summary>
public sealed class SidecarStartupException(string message) : Exception(message);
