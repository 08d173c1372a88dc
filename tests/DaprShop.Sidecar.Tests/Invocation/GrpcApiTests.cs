using Dapr.Client.Autogen.Grpc.v1;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Net.Client;
using Grpc.Reflection.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DaprShop.Sidecar.Tests.Invocation;

/// <summary>The gRPC API at the wire level, with the client stubs Dapr.Protos ships.</summary>
public sealed class GrpcApiTests
{
    [Fact]
    public async Task Server_reflection_lists_the_dapr_service_as_the_sdk_probes_it()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder();
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "reflect", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{sidecar.GrpcPort}");
        var reflection = new ServerReflection.ServerReflectionClient(channel);

        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { FileContainingSymbol = "dapr.proto.runtime.v1.Dapr" });
        await call.RequestStream.CompleteAsync();
        var answers = new List<ServerReflectionResponse>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            answers.Add(call.ResponseStream.Current);
        }

        answers[0].ListServicesResponse.Service.Select(s => s.Name).Should().Contain("dapr.proto.runtime.v1.Dapr");
        answers[1].FileDescriptorResponse.FileDescriptorProto.Should().NotBeEmpty("the SDK reads the method list from the file descriptor");
    }

    [Fact]
    public async Task InvokeService_calls_an_http_app_with_the_verb_and_query_of_the_http_extension()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder();
        await using var app = await TestApp.StartAsync(a => a.MapPut("/prices/{sku}", async (string sku, HttpRequest r) =>
        {
            using var reader = new StreamReader(r.Body);
            return Results.Text($"{sku}:{r.Query["currency"]}:{await reader.ReadToEndAsync()}", "text/plain");
        }));
        await using var target = await SidecarProcess.StartAsync(new() { AppId = "pricing", AppPort = app.Port, ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        await using var caller = await SidecarProcess.StartAsync(new() { AppId = "caller", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{caller.GrpcPort}");
        var dapr = new Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient(channel);

        var response = await dapr.InvokeServiceAsync(new InvokeServiceRequest
        {
            Id = "pricing",
            Message = new InvokeRequest
            {
                Method = "prices/A1",
                ContentType = "text/plain",
                Data = new Any { Value = ByteString.CopyFromUtf8("1999") },
                HttpExtension = new HTTPExtension { Verb = HTTPExtension.Types.Verb.Put, Querystring = "currency=EUR" },
            },
        });

        response.Data.Value.ToStringUtf8().Should().Be("A1:EUR:1999");
        response.ContentType.Should().StartWith("text/plain");
    }
}
