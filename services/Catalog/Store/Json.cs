using System.Text.Json;

namespace DaprShop.Catalog.Store;

/// <summary>The JSON form DaprClient uses for state, so transaction values read back like <c>GetStateAsync</c> values.</summary>
public static class Json
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);
}
