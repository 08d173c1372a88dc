using System.Text;
using System.Text.Json;

namespace DaprShop.Sidecar.Components.Bindings;

/// <summary>What components-contrib's bindings do with a request's data before they use it.</summary>
internal static class BindingData
{
    /// <summary>
    /// A JSON string (what the HTTP API and the SDKs send for a string value) becomes its text; anything else (raw
    /// bytes over gRPC, a JSON object) is taken as it is.
    /// </summary>
    public static byte[] Unquote(byte[] data)
    {
        if (data.Length >= 2 && data[0] == '"' && data[^1] == '"')
        {
            try
            {
                return Encoding.UTF8.GetBytes(JsonSerializer.Deserialize<string>(data)!);
            }
            catch (JsonException)
            {
            }
        }
        return data;
    }
}
