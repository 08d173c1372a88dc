using DaprShop.Sidecar.Hosting;

try
{
    var options = SidecarOptions.Parse(args);
    if (options.PrintVersionOnly)
    {
        Console.WriteLine(DaprShop.Sidecar.Runtime.MetadataApi.RuntimeVersion);
        return 0;
    }
    await using var app = await SidecarApp.BuildAsync(options);
    await app.RunAsync();
    return 0;
}
catch (SidecarStartupException ex)
{
    // daprd prints a fatal line and exits non-zero; tools that start it (and our tests) read stderr.
    await Console.Error.WriteLineAsync($"level=fatal msg=\"{ex.Message}\" app_id= scope=daprshop.sidecar");
    return 1;
}
