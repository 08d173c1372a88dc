using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace DaprShop.Sidecar.Tests.Bindings;

/// <summary>Calls the sidecar's HTTP API as an app would, and reads daprd's JSON error body.</summary>
internal static class ApiCalls
{
    public static Task<HttpResponseMessage> InvokeBindingAsync(this HttpClient http, string name, object body) =>
        http.PostAsJsonAsync($"/v1.0/bindings/{name}", body);

    public static async Task<(HttpStatusCode Status, string ErrorCode, string Message)> ErrorAsync(this HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, json.RootElement.GetProperty("errorCode").GetString()!, json.RootElement.GetProperty("message").GetString()!);
    }
}
