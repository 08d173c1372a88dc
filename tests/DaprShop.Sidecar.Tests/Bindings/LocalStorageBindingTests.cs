using System.Net;
using System.Text;
using System.Text.Json;
using Dapr;
using Dapr.Client;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;

namespace DaprShop.Sidecar.Tests.Bindings;

public sealed class LocalStorageBindingTests : IDisposable
{
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("daprshop-files-");
    private string Root => Path.Combine(_work.FullName, "root");

    public void Dispose() => _work.Delete(recursive: true);

    private async Task<SidecarProcess> StartAsync(TestMesh mesh, ResourcesFolder resources)
    {
        resources.WithComponent("files", "bindings.localstorage", ("rootPath", Root));
        return await SidecarProcess.StartAsync(new() { AppId = "files", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
    }

    [Fact]
    public async Task The_sdk_creates_gets_lists_and_deletes_a_file()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder();
        await using var sidecar = await StartAsync(mesh, resources);
        using var client = sidecar.CreateClient();
        Directory.Exists(Root).Should().BeTrue("a missing rootPath is created at start");
        var content = "{\"order\":42,\"note\":\"héllo\"}"u8.ToArray();

        var created = await client.InvokeBindingAsync(new BindingRequest("files", "create") { Data = content, Metadata = { ["fileName"] = "orders/42.json" } });
        var onDisk = await File.ReadAllBytesAsync(Path.Combine(Root, "orders", "42.json"));
        var got = await client.InvokeBindingAsync(new BindingRequest("files", "get") { Metadata = { ["fileName"] = "orders/42.json" } });
        var listed = await client.InvokeBindingAsync(new BindingRequest("files", "list"));
        await client.InvokeBindingAsync(new BindingRequest("files", "delete") { Metadata = { ["fileName"] = "orders/42.json" } });
        var afterDelete = async () => await client.InvokeBindingAsync(new BindingRequest("files", "get") { Metadata = { ["fileName"] = "orders/42.json" } });

        JsonDocument.Parse(created.Data).RootElement.GetProperty("fileName").GetString().Should().Be("orders/42.json");
        onDisk.Should().Equal(content);
        got.Data.ToArray().Should().Equal(content);
        JsonSerializer.Deserialize<string[]>(listed.Data.Span).Should().Equal(Path.Combine(Root, "orders", "42.json"));
        File.Exists(Path.Combine(Root, "orders", "42.json")).Should().BeFalse();
        (await afterDelete.Should().ThrowAsync<DaprException>()).Which.InnerException!.Message.Should().Contain("file not found");
    }

    [Fact]
    public async Task A_created_file_without_a_name_gets_a_uuid_and_typed_sdk_calls_round_trip()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder();
        await using var sidecar = await StartAsync(mesh, resources);
        using var client = sidecar.CreateClient();

        // The typed call sends the string as JSON ("\"Hello World\""); the binding stores it unquoted, as daprd.
        var created = await client.InvokeBindingAsync<string, JsonElement>("files", "create", "Hello World");
        var name = created.GetProperty("fileName").GetString()!;

        Guid.TryParse(name, out _).Should().BeTrue();
        (await File.ReadAllTextAsync(Path.Combine(Root, name))).Should().Be("Hello World");
    }

    [Fact]
    public async Task The_http_api_creates_text_and_base64_files_lists_and_deletes_them()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder();
        await using var sidecar = await StartAsync(mesh, resources);
        using var http = sidecar.CreateHttpClient();
        byte[] binary = [0, 1, 2, 250, 255];

        using var text = await http.InvokeBindingAsync("files", new { operation = "create", data = "Hello World", metadata = new { fileName = "a.txt" } });
        using var image = await http.InvokeBindingAsync("files", new { operation = "create", data = Convert.ToBase64String(binary), metadata = new { fileName = "b.bin" } });
        using var get = await http.InvokeBindingAsync("files", new { operation = "get", metadata = new { fileName = "a.txt" } });
        using var list = await http.InvokeBindingAsync("files", new { operation = "list" });
        using var delete = await http.InvokeBindingAsync("files", new { operation = "delete", metadata = new { fileName = "a.txt" } });
        using var missing = await http.InvokeBindingAsync("files", new { operation = "get", metadata = new { fileName = "a.txt" } });

        text.StatusCode.Should().Be(HttpStatusCode.OK);
        (await text.Content.ReadAsStringAsync()).Should().Be("{\"fileName\":\"a.txt\"}");
        (await File.ReadAllBytesAsync(Path.Combine(Root, "b.bin"))).Should().Equal(binary, "base64 data is stored decoded");
        (await get.Content.ReadAsStringAsync()).Should().Be("Hello World");
        JsonSerializer.Deserialize<string[]>(await list.Content.ReadAsStringAsync()).Should().BeEquivalentTo(
            [Path.Combine(Root, "a.txt"), Path.Combine(Root, "b.bin")]);
        delete.StatusCode.Should().Be(HttpStatusCode.NoContent);
        var (status, code, message) = await missing.ErrorAsync();
        status.Should().Be(HttpStatusCode.InternalServerError);
        code.Should().Be("ERR_INVOKE_OUTPUT_BINDING");
        message.Should().Contain("file not found");
    }

    [Fact]
    public async Task A_file_name_leaving_the_root_is_refused()
    {
        Directory.CreateDirectory(Root);
        var outside = Directory.CreateDirectory(Path.Combine(_work.FullName, "outside")).FullName;
        await File.WriteAllTextAsync(Path.Combine(_work.FullName, "secret.txt"), "top secret");
        await File.WriteAllTextAsync(Path.Combine(outside, "secret.txt"), "top secret");
        Directory.CreateSymbolicLink(Path.Combine(Root, "outside-link"), outside);
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder();
        await using var sidecar = await StartAsync(mesh, resources);
        using var http = sidecar.CreateHttpClient();
        (string Operation, string FileName)[] attempts =
        [
            ("create", "../escaped.txt"),
            ("create", "nested/../../escaped.txt"),
            ("create", "/tmp/daprshop-escaped.txt"),
            ("create", "outside-link/escaped.txt"),
            ("get", "../secret.txt"),
            ("get", "outside-link/secret.txt"),
            ("list", ".."),
            ("list", "outside-link"),
            ("delete", "../secret.txt"),
        ];

        foreach (var (operation, fileName) in attempts)
        {
            using var response = await http.InvokeBindingAsync("files", new { operation, data = "x", metadata = new { fileName } });

            var (status, code, message) = await response.ErrorAsync();
            status.Should().Be(HttpStatusCode.InternalServerError, $"{operation} {fileName} is refused");
            code.Should().Be("ERR_INVOKE_OUTPUT_BINDING");
            message.Should().Contain(fileName).And.Contain("rootPath");
        }
        File.Exists(Path.Combine(_work.FullName, "escaped.txt")).Should().BeFalse();
        File.Exists(Path.Combine(outside, "escaped.txt")).Should().BeFalse();
        File.Exists("/tmp/daprshop-escaped.txt").Should().BeFalse();
        File.Exists(Path.Combine(_work.FullName, "secret.txt")).Should().BeTrue();
    }
}
