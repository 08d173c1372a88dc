using DaprShop.Sidecar.Tests.Infrastructure;

namespace DaprShop.Sidecar.Tests.State;

/// <summary>A component a test puts in a resources folder: its type and metadata.</summary>
public sealed record StoreSpec(string Type, params (string Name, string Value)[] Metadata)
{
    public StoreSpec With(params (string Name, string Value)[] more) => this with { Metadata = [.. Metadata, .. more] };
}

/// <summary>
/// One sidecar per conformance class, started by the first test that needs it (tests of a class run one after
/// another and use keys of their own). Tests that need other settings start sidecars of their own.
/// </summary>
public sealed class ConformanceSidecar : IAsyncLifetime
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TestMesh _mesh = new();
    private readonly ResourcesFolder _resources = new();
    private SidecarProcess? _sidecar;

    /// <summary>A folder deleted after the class: for SQLite files.</summary>
    public string Scratch { get; } = Directory.CreateTempSubdirectory("daprshop-state-").FullName;

    public async Task<SidecarProcess> GetAsync(Func<Task<StoreSpec>> store)
    {
        await _gate.WaitAsync();
        try
        {
            if (_sidecar is null || _sidecar.HasExited)
            {
                var spec = await store();
                _resources.WithComponent("store", spec.Type, spec.Metadata);
                _sidecar = await SidecarProcess.StartAsync(new() { AppId = "conformance", ResourcesPaths = [_resources.Path], MeshDirectory = _mesh.Directory });
            }
            return _sidecar;
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_sidecar is not null)
        {
            await _sidecar.DisposeAsync();
        }
        _resources.Dispose();
        _mesh.Dispose();
        try
        {
            Directory.Delete(Scratch, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
