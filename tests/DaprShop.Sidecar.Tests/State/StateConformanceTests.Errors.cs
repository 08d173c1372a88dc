using System.Net;
using Dapr.Client;
using FluentAssertions;
using Grpc.Core;

namespace DaprShop.Sidecar.Tests.State;

/// <summary>How the state API answers bad requests, as daprd does, whatever the store.</summary>
public abstract partial class StateConformanceTests
{
    [Theory]
    [InlineData("/v1.0/state/nope")]
    [InlineData("/v1.0/state/nope/bulk")]
    [InlineData("/v1.0/state/nope/transaction")]
    public async Task An_unknown_store_is_reported_as_such_before_a_malformed_body_is_read(string url)
    {
        var sidecar = await SidecarAsync();
        using var http = sidecar.CreateHttpClient();

        using var response = await PostJsonAsync(http, url, "not json at all");

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(response)).Should().Be(("ERR_STATE_STORE_NOT_FOUND", "state store nope is not found"));
    }

    [Theory]
    [InlineData("/bulk", """{"keys":[1]}""")]
    [InlineData("/bulk", """{"keys":["a"],"parallelism":"ten"}""")]
    [InlineData("/transaction", """{"operations":[1]}""")]
    [InlineData("/transaction", """{"operations":[{"operation":5,"request":{"key":"a"}}]}""")]
    [InlineData("", """[{"key":7,"value":1}]""")]
    [InlineData("", """[{"key":"a","value":1,"options":{"concurrency":5}}]""")]
    [InlineData("", """[{"key":"a","value":1,"options":"first-write"}]""")]
    public async Task A_field_of_the_wrong_json_kind_is_a_malformed_request_not_a_server_error(string route, string body)
    {
        var sidecar = await SidecarAsync();
        using var http = sidecar.CreateHttpClient();

        using var response = await PostJsonAsync(http, $"/v1.0/state/{Store}{route}", body);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(response)).Code.Should().Be("ERR_MALFORMED_REQUEST");
    }

    [Fact]
    public async Task An_unknown_concurrency_or_consistency_fails_in_the_store_as_in_daprd_and_known_ones_pass()
    {
        var sidecar = await SidecarAsync();
        using var http = sidecar.CreateHttpClient();
        var key = NewKey("options");

        using var concurrency = await PostJsonAsync(http, $"/v1.0/state/{Store}", $$$"""[{"key":"{{{key}}}","value":1,"options":{"concurrency":"bogus"}}]""");
        using var consistency = await PostJsonAsync(http, $"/v1.0/state/{Store}", $$$"""[{"key":"{{{key}}}","value":1,"options":{"consistency":"bogus"}}]""");
        using var deleted = await http.DeleteAsync($"/v1.0/state/{Store}/{key}?consistency=bogus");
        using var known = await PostJsonAsync(http, $"/v1.0/state/{Store}", $$$"""[{"key":"{{{key}}}","value":1,"options":{"concurrency":"first-write","consistency":"strong"}}]""");

        concurrency.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await ErrorAsync(concurrency)).Should().Be(("ERR_STATE_SAVE", $"failed saving state in state store {Store}: unrecognized concurrency model 'bogus'"));
        consistency.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await ErrorAsync(consistency)).Message.Should().EndWith("unrecognized consistency model 'bogus'");
        deleted.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await ErrorAsync(deleted)).Code.Should().Be("ERR_STATE_DELETE");
        known.StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task A_bad_ttl_inside_a_transaction_fails_the_transaction_and_writes_nothing()
    {
        var sidecar = await SidecarAsync();
        using var http = sidecar.CreateHttpClient();
        var (good, bad) = (NewKey("good"), NewKey("bad"));

        var body = "{\"operations\":[{\"operation\":\"upsert\",\"request\":{\"key\":\"" + good + "\",\"value\":1}},"
            + "{\"operation\":\"upsert\",\"request\":{\"key\":\"" + bad + "\",\"value\":2,\"metadata\":{\"ttlInSeconds\":\"soon\"}}}]}";
        using var response = await PostJsonAsync(http, $"/v1.0/state/{Store}/transaction", body);

        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        var (code, message) = await ErrorAsync(response);
        code.Should().Be("ERR_STATE_TRANSACTION");
        message.Should().Contain("incorrect value for metadata 'ttlInSeconds'");
        (await http.GetAsync($"/v1.0/state/{Store}/{good}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task An_unknown_transaction_operation_is_400_over_http_and_unimplemented_over_grpc()
    {
        var sidecar = await SidecarAsync();
        using var http = sidecar.CreateHttpClient();
        using var client = sidecar.CreateClient();

        using var response = await PostJsonAsync(http, $"/v1.0/state/{Store}/transaction", """{"operations":[{"operation":"merge","request":{"key":"a","value":1}}]}""");
        var overGrpc = await GrpcStatusOf(() => client.ExecuteStateTransactionAsync(Store,
            [new StateTransactionRequest("a", [1], (StateOperationType)42)]));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await ErrorAsync(response)).Should().Be(("ERR_NOT_SUPPORTED_STATE_OPERATION", "operation type merge not supported"));
        overGrpc.Should().Be(StatusCode.Unimplemented);
    }

    [Fact]
    public async Task A_value_that_is_not_json_comes_back_over_http_as_daprd_sends_every_value_as_application_json()
    {
        var sidecar = await SidecarAsync();
        using var client = sidecar.CreateClient();
        using var http = sidecar.CreateHttpClient();
        var key = NewKey("raw");
        await client.SaveByteStateAsync(Store, key, new byte[] { 1, 2, 3, 250 });

        using var response = await http.GetAsync($"/v1.0/state/{Store}/{key}");

        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        (await response.Content.ReadAsByteArrayAsync()).Should().Equal(1, 2, 3, 250);
    }
}
