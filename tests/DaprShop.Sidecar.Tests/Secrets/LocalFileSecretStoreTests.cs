using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapr;
using DaprShop.Sidecar.Tests.Bindings;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DaprShop.Sidecar.Tests.Secrets;

public sealed class LocalFileSecretStoreTests : IDisposable
{
    private const string SecretsJson = """
        {
          "apiKey": "k-1",
          "db": { "password": "p@ss", "port": 5432, "tls": true, "hosts": ["a", "b"] }
        }
        """;

    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("daprshop-secrets-");
    private readonly string _file;

    public LocalFileSecretStoreTests()
    {
        _file = Path.Combine(_work.FullName, "secrets.json");
        File.WriteAllText(_file, SecretsJson);
    }

    [Fact]
    public async Task The_stores_outbound_breaker_counts_missing_secrets_and_once_open_refuses_every_get()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder()
            .WithComponent("file", "secretstores.local.file", ("secretsFile", _file))
            .WithResiliency("""
                policies:
                  circuitBreakers:
                    vault:
                      timeout: 60s
                      trip: consecutiveFailures >= 2
                targets:
                  components:
                    file:
                      outbound:
                        circuitBreaker: vault
                """);
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "secrets-breaker", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var http = sidecar.CreateHttpClient();
        (await http.GetStringAsync("/v1.0/secrets/file/apiKey")).Should().Contain("k-1");

        for (var i = 0; i < 2; i++)
        {
            using var missing = await http.GetAsync("/v1.0/secrets/file/nope");
            (await missing.Content.ReadAsStringAsync()).Should().Contain("ERR_SECRET_GET").And.Contain("secret nope not found");
        }
        using var refused = await http.GetAsync("/v1.0/secrets/file/apiKey");
        using var refusedBulk = await http.GetAsync("/v1.0/secrets/file/bulk");

        refused.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await refused.Content.ReadAsStringAsync()).Should().Contain("ERR_SECRET_GET").And.Contain("circuit breaker is open");
        (await refusedBulk.Content.ReadAsStringAsync()).Should().Contain("ERR_SECRET_GET").And.Contain("circuit breaker is open");
    }

    public void Dispose() => _work.Delete(recursive: true);

    [Fact]
    public async Task Nested_values_are_flattened_into_single_valued_secrets_for_the_sdk_and_http()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder()
            .WithComponent("file", "secretstores.local.file", ("secretsFile", _file))
            .WithComponent("dotted", "secretstores.local.file", ("secretsFile", _file), ("nestedSeparator", "."));
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "secrets", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var client = sidecar.CreateClient();
        using var http = sidecar.CreateHttpClient();

        var password = await client.GetSecretAsync("file", "db:password");
        var dotted = await client.GetSecretAsync("dotted", "db.port");
        var bulk = await client.GetBulkSecretAsync("file");
        var overHttp = await http.GetStringAsync("/v1.0/secrets/file/db:hosts:1");
        var bulkOverHttp = await http.GetStringAsync("/v1.0/secrets/dotted/bulk");

        password.Should().Equal(new Dictionary<string, string> { ["db:password"] = "p@ss" });
        dotted.Should().Equal(new Dictionary<string, string> { ["db.port"] = "5432" });
        bulk.Keys.Should().BeEquivalentTo(["apiKey", "db:password", "db:port", "db:tls", "db:hosts:0", "db:hosts:1"]);
        bulk["db:tls"].Should().Equal(new Dictionary<string, string> { ["db:tls"] = "true" });
        bulk["apiKey"].Should().Equal(new Dictionary<string, string> { ["apiKey"] = "k-1" });
        overHttp.Should().Be("{\"db:hosts:1\":\"b\"}");
        JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, string>>>(bulkOverHttp)!["db.hosts.0"]
            .Should().Equal(new Dictionary<string, string> { ["db.hosts.0"] = "a" });
    }

    [Fact]
    public async Task A_multi_valued_store_keeps_top_level_keys_as_secrets_with_their_nested_values()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().WithComponent("multi", "secretstores.local.file", ("secretsFile", _file), ("multiValued", "true"));
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "secrets-multi", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var client = sidecar.CreateClient();

        var db = await client.GetSecretAsync("multi", "db");
        var apiKey = await client.GetSecretAsync("multi", "apiKey");
        var bulk = await client.GetBulkSecretAsync("multi");

        db.Should().Equal(new Dictionary<string, string> { ["password"] = "p@ss", ["port"] = "5432", ["tls"] = "true", ["hosts:0"] = "a", ["hosts:1"] = "b" });
        apiKey.Should().Equal(new Dictionary<string, string> { ["apiKey"] = "k-1" });
        bulk.Keys.Should().BeEquivalentTo(["apiKey", "db"]);
    }

    [Fact]
    public async Task An_unknown_store_is_401_and_a_missing_secret_is_500()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().WithComponent("file", "secretstores.local.file", ("secretsFile", _file));
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "secrets-errors", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var http = sidecar.CreateHttpClient();
        using var client = sidecar.CreateClient();

        using var unknownStore = await http.GetAsync("/v1.0/secrets/vault/apiKey");
        using var missingSecret = await http.GetAsync("/v1.0/secrets/file/nope");
        using var unknownStoreBulk = await http.GetAsync("/v1.0/secrets/vault/bulk");
        var sdkMissing = async () => await client.GetSecretAsync("file", "nope");

        var (status, code, _) = await unknownStore.ErrorAsync();
        status.Should().Be(HttpStatusCode.Unauthorized);
        code.Should().Be("ERR_SECRET_STORE_NOT_FOUND");
        (status, code, _) = await unknownStoreBulk.ErrorAsync();
        status.Should().Be(HttpStatusCode.Unauthorized);
        code.Should().Be("ERR_SECRET_STORE_NOT_FOUND");
        (status, code, var message) = await missingSecret.ErrorAsync();
        status.Should().Be(HttpStatusCode.InternalServerError);
        code.Should().Be("ERR_SECRET_GET");
        message.Should().Contain("nope");
        await sdkMissing.Should().ThrowAsync<DaprException>();
    }

    [Fact]
    public async Task The_configurations_secret_scopes_decide_which_secrets_the_app_may_read_as_daprd_does()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder()
            .WithComponent("allowlisted", "secretstores.local.file", ("secretsFile", _file))
            .WithComponent("denylisted", "secretstores.local.file", ("secretsFile", _file))
            .WithComponent("unscoped", "secretstores.local.file", ("secretsFile", _file));
        var config = Path.Combine(_work.FullName, "config.yaml");
        File.WriteAllText(config, """
            apiVersion: dapr.io/v1alpha1
            kind: Configuration
            metadata:
              name: scoped
            spec:
              secrets:
                scopes:
                  - storeName: allowlisted
                    defaultAccess: deny
                    allowedSecrets: ["apiKey"]
                  - storeName: denylisted
                    deniedSecrets: ["db:password"]
            """);
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "scoped", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, ConfigPath = config });
        using var client = sidecar.CreateClient();
        using var http = sidecar.CreateHttpClient();

        (await client.GetSecretAsync("allowlisted", "apiKey"))["apiKey"].Should().Be("k-1");
        (await client.GetBulkSecretAsync("allowlisted")).Keys.Should().Equal("apiKey");
        (await client.GetBulkSecretAsync("denylisted")).Keys.Should().NotContain("db:password").And.Contain("apiKey");
        (await client.GetBulkSecretAsync("unscoped")).Keys.Should().Contain("db:password");
        var denied = await http.GetAsync("/v1.0/secrets/allowlisted/db:port");
        denied.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        var error = await denied.Content.ReadFromJsonAsync<JsonElement>();
        error.GetProperty("errorCode").GetString().Should().Be("ERR_PERMISSION_DENIED");
        error.GetProperty("message").GetString().Should().Be("access denied by policy to get \"db:port\" from \"allowlisted\"");
        var sdkDenied = async () => await client.GetSecretAsync("denylisted", "db:password");
        (await sdkDenied.Should().ThrowAsync<DaprException>()).Which.InnerException.Should().BeOfType<global::Grpc.Core.RpcException>()
            .Which.StatusCode.Should().Be(global::Grpc.Core.StatusCode.PermissionDenied);
    }

    [Fact]
    public async Task A_scope_with_an_unknown_default_access_or_a_repeated_store_stops_the_sidecar_naming_the_field()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().WithComponent("file", "secretstores.local.file", ("secretsFile", _file));
        var config = Path.Combine(_work.FullName, "bad-config.yaml");
        File.WriteAllText(config, """
            apiVersion: dapr.io/v1alpha1
            kind: Configuration
            metadata:
              name: bad
            spec:
              secrets:
                scopes:
                  - storeName: file
                    defaultAccess: maybe
            """);

        var (exitCode, output) = await SidecarProcess.RunToExitAsync(new() { AppId = "bad-scope", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, ConfigPath = config });

        exitCode.Should().NotBe(0);
        output.Should().Contain("spec.secrets.scopes[0].defaultAccess").And.Contain("maybe");
    }

    [Fact]
    public async Task A_missing_secrets_file_stops_the_sidecar_naming_the_component()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().WithComponent("lost-secrets", "secretstores.local.file", ("secretsFile", Path.Combine(_work.FullName, "absent.json")));

        var (exitCode, output) = await SidecarProcess.RunToExitAsync(new() { AppId = "secrets-lost", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });

        exitCode.Should().NotBe(0);
        output.Should().Contain("lost-secrets").And.Contain("secretsFile").And.Contain("absent.json");
    }

    [Fact]
    public async Task A_binding_url_taken_from_the_file_store_by_secretKeyRef_works_end_to_end()
    {
        await using var target = await TestApp.StartAsync(a => a.MapGet("/ping", () => Results.Text("pong")));
        await File.WriteAllTextAsync(_file, $$"""{ "endpoints": { "pinger": "http://127.0.0.1:{{target.Port}}" } }""");
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder()
            .WithComponent("file", "secretstores.local.file", ("secretsFile", _file))
            .With("pinger.yaml", """
                apiVersion: dapr.io/v1alpha1
                kind: Component
                metadata:
                  name: pinger
                spec:
                  type: bindings.http
                  version: v1
                  metadata:
                  - name: url
                    secretKeyRef:
                      name: endpoints:pinger
                      key: endpoints:pinger
                auth:
                  secretStore: file
                """);
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "secret-ref", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var http = sidecar.CreateHttpClient();

        using var response = await http.InvokeBindingAsync("pinger", new { operation = "get", metadata = new { path = "ping" } });

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("pong");
        target.RequestsTo("/ping").Should().ContainSingle();
    }

    [Fact]
    public async Task A_secretKeyRef_to_a_missing_secret_stops_the_sidecar_naming_the_component()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder()
            .WithComponent("file", "secretstores.local.file", ("secretsFile", _file))
            .With("needy.yaml", """
                apiVersion: dapr.io/v1alpha1
                kind: Component
                metadata:
                  name: needy-binding
                spec:
                  type: bindings.http
                  version: v1
                  metadata:
                  - name: url
                    secretKeyRef:
                      name: no-such-secret
                      key: no-such-secret
                auth:
                  secretStore: file
                """);

        var (exitCode, output) = await SidecarProcess.RunToExitAsync(new() { AppId = "secret-ref-bad", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });

        exitCode.Should().NotBe(0);
        output.Should().Contain("needy-binding").And.Contain("no-such-secret");
    }
}
