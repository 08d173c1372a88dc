namespace DaprShop.Sidecar.Components.Bindings;

public sealed record BindingRequest(string Operation, byte[] Data, IReadOnlyDictionary<string, string> Metadata);

public sealed record BindingResponse(byte[]? Data, IReadOnlyDictionary<string, string> Metadata, string? ContentType = null);

/// <summary>An event from an input binding to deliver to the app.</summary>
public sealed record BindingEvent(byte[] Data, IReadOnlyDictionary<string, string> Metadata);

/// <summary>An output binding: the app calls it through <c>/v1.0/bindings/{name}</c>.</summary>
public interface IOutputBinding : IComponent
{
    IReadOnlyList<string> Operations { get; }

    Task<BindingResponse> InvokeAsync(BindingRequest request, CancellationToken cancellationToken);
}

/// <summary>An input binding: it calls the app. The handler throws when the app did not take the event.</summary>
public interface IInputBinding : IComponent
{
    Task ReadAsync(Func<BindingEvent, CancellationToken, Task> handler, CancellationToken stopping);
}

/// <summary>A binding operation the component does not know, or a request it cannot serve.</summary>
public sealed class BindingRequestException(string message) : Exception(message);
