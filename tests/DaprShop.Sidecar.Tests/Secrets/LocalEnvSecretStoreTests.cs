using System.Net;
using System.Text.Json;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;

namespace DaprShop.Sidecar.Tests.Secrets;

public sealed class LocalEnvSecretStoreTests
{
    [Fact]
    public async Task Environment_variables_are_secrets_with_the_prefix_stripped_and_daprs_own_hidden()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder()
            .WithComponent("env", "secretstores.local.env")
            .WithComponent("shop-env", "secretstores.local.env", ("prefix", "SHOPTEST_"));
        await using var sidecar = await SidecarProcess.StartAsync(new()
        {
            AppId = "env-secrets",
            ResourcesPaths = [resources.Path],
            MeshDirectory = mesh.Directory,
            Environment = new Dictionary<string, string>
            {
                ["SHOPTEST_DB_PASSWORD"] = "s3cret",
                ["SHOPTEST_API_KEY"] = "k-9",
                ["OTHERTEST_VALUE"] = "plain",
                ["DAPR_TEST_HIDDEN"] = "hidden",
            },
        });
        using var client = sidecar.CreateClient();
        using var http = sidecar.CreateHttpClient();

        var prefixed = await client.GetSecretAsync("shop-env", "DB_PASSWORD");
        var outsidePrefix = await client.GetSecretAsync("shop-env", "OTHERTEST_VALUE");
        var plain = await client.GetSecretAsync("env", "OTHERTEST_VALUE");
        var hidden = await client.GetSecretAsync("env", "DAPR_TEST_HIDDEN");
        var unset = await client.GetSecretAsync("env", "NOT_SET_ANYWHERE_42");
        var prefixedBulk = await client.GetBulkSecretAsync("shop-env");
        var allOverHttp = JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, string>>>(await http.GetStringAsync("/v1.0/secrets/env/bulk"))!;
        var overHttp = await http.GetStringAsync("/v1.0/secrets/shop-env/API_KEY");

        prefixed.Should().Equal(new Dictionary<string, string> { ["DB_PASSWORD"] = "s3cret" });
        outsidePrefix.Should().Equal(new Dictionary<string, string> { ["OTHERTEST_VALUE"] = "" }, "the store reads SHOPTEST_OTHERTEST_VALUE, which is not set");
        plain.Should().Equal(new Dictionary<string, string> { ["OTHERTEST_VALUE"] = "plain" });
        hidden.Should().Equal(new Dictionary<string, string> { ["DAPR_TEST_HIDDEN"] = "" }, "daprd hides DAPR_* variables");
        unset.Should().Equal(new Dictionary<string, string> { ["NOT_SET_ANYWHERE_42"] = "" }, "daprd answers an unset variable with an empty value");
        prefixedBulk.Should().BeEquivalentTo(new Dictionary<string, Dictionary<string, string>>
        {
            ["DB_PASSWORD"] = new() { ["DB_PASSWORD"] = "s3cret" },
            ["API_KEY"] = new() { ["API_KEY"] = "k-9" },
        });
        allOverHttp["OTHERTEST_VALUE"].Should().Equal(new Dictionary<string, string> { ["OTHERTEST_VALUE"] = "plain" });
        allOverHttp["SHOPTEST_DB_PASSWORD"]["SHOPTEST_DB_PASSWORD"].Should().Be("s3cret");
        allOverHttp.Keys.Should().NotContain(k => k.StartsWith("DAPR", StringComparison.OrdinalIgnoreCase));
        overHttp.Should().Be("{\"API_KEY\":\"k-9\"}");
    }
}
