using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;

namespace DaprShop.Sidecar.Tests.Hosting;

public sealed class StartupTests
{
    private static async Task<(int ExitCode, string Output)> StartWithAsync(string file, string yaml, params string[] extraArgs)
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().With(file, yaml);
        return await SidecarProcess.RunToExitAsync(new() { AppId = "broken", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, ExtraArgs = extraArgs });
    }

    [Fact]
    public async Task Malformed_yaml_stops_the_sidecar_naming_the_file_and_line()
    {
        var (code, output) = await StartWithAsync("bad.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: [unclosed\n");
        code.Should().NotBe(0);
        output.Should().Contain("bad.yaml").And.Contain("malformed YAML").And.Contain("line");
    }

    [Fact]
    public async Task An_unknown_component_type_stops_the_sidecar_naming_the_component_and_field()
    {
        var (code, output) = await StartWithAsync("cache.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: cache
            spec:
              type: state.nosuchstore
              version: v1
            """);
        code.Should().NotBe(0);
        output.Should().Contain("cache.yaml").And.Contain("'cache'").And.Contain("spec.type").And.Contain("state.nosuchstore");
    }

    [Theory]
    [InlineData("spec:\n  version: v1\n", "spec.type")]
    [InlineData("spec:\n  type: state.in-memory\n", "spec.version")]
    [InlineData("spec:\n  type: state.in-memory\n  version: v1\n  metadata:\n  - value: x\n", "spec.metadata[0].name")]
    public async Task A_missing_required_field_stops_the_sidecar_naming_it(string spec, string field)
    {
        var (code, output) = await StartWithAsync("store.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: store\n" + spec);
        code.Should().NotBe(0);
        output.Should().Contain("store.yaml").And.Contain("'store'").And.Contain(field);
    }

    [Fact]
    public async Task A_topic_scope_entry_without_an_app_id_stops_the_sidecar_naming_the_field()
    {
        var (code, output) = await StartWithAsync("pubsub.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Component
            metadata:
              name: pubsub
            spec:
              type: pubsub.in-memory
              version: v1
              metadata:
              - name: publishingScopes
                value: "orders,payments"
            """);
        code.Should().NotBe(0);
        output.Should().Contain("pubsub.yaml").And.Contain("'pubsub'").And.Contain("publishingScopes").And.Contain("orders,payments");
    }

    [Fact]
    public async Task A_resiliency_policy_with_a_bad_duration_stops_the_sidecar()
    {
        var (code, output) = await StartWithAsync("resiliency.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Resiliency
            metadata:
              name: broken
            spec:
              policies:
                timeouts:
                  general: five seconds
            """);
        code.Should().NotBe(0);
        output.Should().Contain("resiliency.yaml").And.Contain("spec.policies.timeouts.general");
    }

    [Fact]
    public async Task A_workflow_retention_policy_with_a_bad_duration_stops_the_sidecar_naming_the_field()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().With("config.yaml", """
            apiVersion: dapr.io/v1alpha1
            kind: Configuration
            metadata:
              name: config
            spec:
              workflow:
                stateRetentionPolicy:
                  completed: a week
            """);
        var (code, output) = await SidecarProcess.RunToExitAsync(new()
        {
            AppId = "broken", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, ConfigPath = Path.Combine(resources.Path, "config.yaml"),
        });

        code.Should().NotBe(0);
        output.Should().Contain("config.yaml").And.Contain("spec.workflow.stateRetentionPolicy.completed").And.Contain("a week");
    }

    [Fact]
    public async Task Unknown_flags_and_a_missing_app_id_are_refused_like_daprd()
    {
        var (code, output) = await StartWithAsync("empty.yaml", "", "--no-such-flag", "1");
        code.Should().NotBe(0);
        output.Should().Contain("flag provided but not defined: -no-such-flag");
    }

    private static string StateStore(string type, params string[] scopes) => $"""
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: statestore
        spec:
          type: {type}
          version: v1
        {(scopes.Length == 0 ? "" : "scopes:\n" + string.Concat(scopes.Select(s => $"- {s}\n")))}
        """;

    [Fact]
    public async Task One_component_name_can_be_bound_per_app_through_scopes()
    {
        // A database per service: the same name in several documents, each scoped to one app.
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().With("statestore.yaml",
            StateStore("state.redis", "other") + "---\n" + StateStore("state.in-memory", "mine") + "---\n" + StateStore("state.nosuchstore", "third"));
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "mine", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var http = sidecar.CreateHttpClient();

        var metadata = await http.GetFromJsonAsync<JsonElement>("/v1.0/metadata");

        var component = metadata.GetProperty("components").EnumerateArray().Single();
        component.GetProperty("name").GetString().Should().Be("statestore");
        component.GetProperty("type").GetString().Should().Be("state.in-memory", "the documents scoped to other apps are not this sidecar's");
    }

    [Fact]
    public async Task A_name_defined_twice_for_one_app_stops_the_sidecar_naming_both_definitions()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder()
            .With("a.yaml", StateStore("state.in-memory"))
            .With("b.yaml", StateStore("state.in-memory", "broken", "other"));

        var (code, output) = await SidecarProcess.RunToExitAsync(new() { AppId = "broken", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });

        code.Should().NotBe(0);
        output.Should().Contain("'statestore'").And.Contain("more than once").And.Contain("a.yaml").And.Contain("b.yaml");
    }

    [Fact]
    public async Task Daprd_flags_are_accepted_and_reported_in_the_metadata()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().WithComponent("store", "state.in-memory");
        await using var sidecar = await SidecarProcess.StartAsync(new()
        {
            AppId = "flags",
            ResourcesPaths = [resources.Path],
            MeshDirectory = mesh.Directory,
            ExtraArgs = ["--app-protocol", "http", "--log-level", "debug", "--enable-app-health-check=false", "--app-max-concurrency", "7", "--placement-host-address", "localhost:50005", "-enable-api-logging"],
        });
        using var http = sidecar.CreateHttpClient();

        var metadata = await http.GetFromJsonAsync<JsonElement>("/v1.0/metadata");

        metadata.GetProperty("id").GetString().Should().Be("flags");
        metadata.GetProperty("appConnectionProperties").GetProperty("maxConcurrency").GetInt32().Should().Be(7);
        var component = metadata.GetProperty("components").EnumerateArray().Single();
        component.GetProperty("name").GetString().Should().Be("store");
        component.GetProperty("type").GetString().Should().Be("state.in-memory");
        component.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()).Should().Contain(["ETAG", "TRANSACTIONAL", "TTL"]);
    }

    [Fact]
    public async Task The_flags_the_dapr_cli_passes_start_the_sidecar_and_app_port_0_means_no_app()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().WithComponent("store", "state.in-memory");
        // What `dapr run` adds to every daprd it starts, without an app port.
        await using var sidecar = await SidecarProcess.StartAsync(new()
        {
            AppId = "cli",
            ResourcesPaths = [resources.Path],
            MeshDirectory = mesh.Directory,
            ExtraArgs = ["--app-port", "0", "--max-body-size", "1Ki", "--read-buffer-size", "4Ki", "--log-as-json", "--app-protocol", "http",
                "--placement-host-address", "localhost:50005", "--scheduler-host-address", "localhost:50006", "--app-ssl=false"],
        });
        using var http = sidecar.CreateHttpClient();

        (await http.GetAsync("/v1.0/healthz")).StatusCode.Should().Be(HttpStatusCode.NoContent, "with app port 0 there is no app to wait for");
        var big = await http.PostAsync("/v1.0/state/store", new StringContent($$"""[{"key":"k","value":"{{new string('x', 2048)}}"}]"""));
        big.IsSuccessStatusCode.Should().BeFalse("--max-body-size 1Ki refuses a 2 KB body");
        (await http.PostAsync("/v1.0/state/store", new StringContent("""[{"key":"k","value":1}]"""))).StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Version_prints_the_runtime_version_and_exits_and_app_ssl_is_refused_rather_than_ignored()
    {
        var (versionCode, version) = await StartWithAsync("empty.yaml", "", "--version");
        var (sslCode, ssl) = await StartWithAsync("empty.yaml", "", "--app-ssl");

        versionCode.Should().Be(0);
        version.Should().Contain("1.18.7-daprshop");
        sslCode.Should().NotBe(0);
        ssl.Should().Contain("--app-ssl is not supported");
    }

    [Fact]
    public async Task Shutdown_through_the_api_stops_the_process()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder();
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "stopper", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var client = sidecar.CreateClient();

        await client.ShutdownSidecarAsync();

        await Eventually.HoldsAsync(() => sidecar.HasExited, TimeSpan.FromSeconds(15), "the sidecar exits after /shutdown");
        sidecar.ExitCode.Should().Be(0);
        Directory.GetFiles(mesh.Directory, "*.json").Should().BeEmpty("a stopped sidecar leaves the mesh");
    }

    [Fact]
    public async Task Healthz_waits_for_the_app_while_outbound_health_does_not()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder();
        var appPort = Ports.Free();
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "late", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = appPort, WaitForApp = false });
        using var http = sidecar.CreateHttpClient();

        (await http.GetAsync("/v1.0/healthz/outbound")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        var notReady = await http.GetAsync("/v1.0/healthz");
        notReady.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await notReady.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errorCode").GetString().Should().Be("ERR_HEALTH_NOT_READY");

        await using var app = await TestApp.StartAsync(_ => { }, port: appPort);
        await Eventually.HoldsAsync(() => http.GetAsync("/v1.0/healthz").Result.StatusCode == HttpStatusCode.NoContent, "healthz turns green once the app listens");
    }
}
