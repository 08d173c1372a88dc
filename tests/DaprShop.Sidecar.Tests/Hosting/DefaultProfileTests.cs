using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;

namespace DaprShop.Sidecar.Tests.Hosting;

/// <summary>The embedded default profile in <c>components/default</c>, as the README's run command starts it.</summary>
public sealed class DefaultProfileTests
{
    [Fact]
    public async Task The_default_profile_starts_without_any_server_and_serves_every_building_block()
    {
        using var mesh = new TestMesh();
        var workDir = Directory.CreateTempSubdirectory("daprshop-default-").FullName;
        try
        {
            // Run from a copy of the layout the README assumes (the repository root), so the test leaves no .data/ behind.
            CopyDirectory(Path.Combine(Repo.Root, "components"), Path.Combine(workDir, "components"));
            await using var sidecar = await SidecarProcess.StartAsync(new()
            {
                AppId = "demo",
                ResourcesPaths = [Path.Combine(workDir, "components", "default")],
                ConfigPath = Path.Combine(workDir, "components", "default", "configuration.yaml"),
                MeshDirectory = mesh.Directory,
                WorkingDirectory = workDir,
            });
            using var client = sidecar.CreateClient();
            using var http = sidecar.CreateHttpClient();

            await client.SaveStateAsync("statestore", "greeting", "hello");
            (await client.GetStateAsync<string>("statestore", "greeting")).Should().Be("hello");
            File.Exists(Path.Combine(workDir, ".data", "demo.db")).Should().BeTrue("state lives in one folder a newcomer can find, a database per app id");

            (await client.GetSecretAsync("secretstore", "payment:webhook-signing-key")).Should().ContainKey("payment:webhook-signing-key");
            (await http.GetAsync("/v1.0/secrets/secretstore/smtp-password")).StatusCode.Should().Be(HttpStatusCode.Forbidden,
                "the profile's secret scopes let apps read only the signing key; the SMTP password is for the binding's secretKeyRef");

            var created = await http.PostAsJsonAsync("/v1.0/bindings/outbox", new { operation = "create", data = "Subject: hi\r\n\r\nbody", metadata = new { fileName = "mail.eml" } });
            created.StatusCode.Should().Be(HttpStatusCode.OK);
            File.Exists(Path.Combine(workDir, ".data", "outbox", "mail.eml")).Should().BeTrue();

            (await http.PostAsJsonAsync("/v1.0/publish/pubsub/orders", new { orderId = 1 })).StatusCode.Should().Be(HttpStatusCode.NoContent);

            var metadata = await http.GetFromJsonAsync<JsonElement>("/v1.0/metadata");
            var capabilities = metadata.GetProperty("components").EnumerateArray()
                .Single(c => c.GetProperty("name").GetString() == "statestore").GetProperty("capabilities").EnumerateArray().Select(c => c.GetString());
            capabilities.Should().Contain("ACTOR", "the default state store also holds actors and workflows");
            metadata.GetProperty("enabledFeatures").EnumerateArray().Select(f => f.GetString()).Should().Contain("ActorStateTTL", "the profile's Configuration turns it on");
        }
        finally
        {
            Directory.Delete(workDir, recursive: true);
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(dir.Replace(from, to, StringComparison.Ordinal));
        }
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
        }
    }
}
