namespace DaprShop.AppHost;

/// <summary>A Dapr sidecar shown in the dashboard as a resource of its own, next to the app it serves.</summary>
public static class DaprSidecars
{
    public const string HttpEndpoint = "http";
    public const string GrpcEndpoint = "grpc";

    /// <summary>
    /// Gives the app its own sidecar under the app's resource name as Dapr app id, as <c>dapr run</c> would: the app
    /// reaches it through DAPR_HTTP_PORT/DAPR_GRPC_PORT, the sidecar reaches the app on its http endpoint, and the app
    /// starts once its sidecar has loaded its components. Ports are chosen per run and used directly (not proxied),
    /// so the hop between app and sidecar is the same as under daprd. An app that only Dapr calls (every business
    /// service) gets APP_API_TOKEN and refuses anyone else; the gateway and the storefront, which browsers reach
    /// directly, pass <paramref name="onlyDaprCallsIt"/> false.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithDaprSidecar(this IResourceBuilder<ProjectResource> app, DaprMesh mesh, int? appPort = null, bool onlyDaprCallsIt = true)
    {
        var appId = app.Resource.Name;
        var port = appPort ?? mesh.FreePort();
        var httpPort = mesh.FreePort();
        var grpcPort = mesh.FreePort();
        string[] args =
        [
            "--app-id", appId,
            "--app-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--app-protocol", "http",
            "--dapr-http-port", httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--dapr-grpc-port", grpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--resources-path", mesh.ResourcesPath,
            "--config", mesh.ConfigPath,
            "--enable-app-health-check",
            "--app-health-check-path", "/alive",
            "--log-level", "info",
        ];

        // The same resource shape either way, so the rest of the AppHost never knows which runtime serves it.
        if (mesh.Daprd is { } daprd)
        {
            Configure(mesh.Builder.AddExecutable($"{appId}-dapr", daprd, mesh.RepositoryRoot, args).WithOtlpExporter());
        }
        else
        {
            // Started as "dotnet <dll>" rather than as a project, so no "dotnet run" (an MSBuild evaluation per
            // sidecar) slows the start, and its working directory is the repository root like daprd's.
            Configure(mesh.Builder.AddExecutable($"{appId}-dapr", "dotnet", mesh.RepositoryRoot, [mesh.SidecarAssembly, .. args]).WithOtlpExporter());
        }

        void Configure<T>(IResourceBuilder<T> resource) where T : class, IResourceWithEndpoints, IResourceWithEnvironment, IResourceWithWaitSupport
        {
            foreach (var (server, variable, address) in mesh.Servers)
            {
                resource.WaitFor(server).WithEnvironment(variable, address);
            }
            app.WaitFor(resource
                .WithHttpEndpoint(port: httpPort, name: HttpEndpoint, isProxied: false)
                .WithEndpoint(port: grpcPort, name: GrpcEndpoint, scheme: "http", isProxied: false)
                .WithEnvironment("DAPRSHOP_MESH_DIR", mesh.MeshDirectory)
                .WithEnvironment("DAPR_API_TOKEN", mesh.ApiToken)
                .WithEnvironment("APP_API_TOKEN", onlyDaprCallsIt ? mesh.AppToken : "")
                // Dapr answers its health endpoints with 204 No Content.
                .WithHttpHealthCheck("/v1.0/healthz/outbound", statusCode: 204, endpointName: HttpEndpoint)
                .WithParentRelationship(app));
        }

        foreach (var (variable, value) in mesh.AppSettingsOf(appId))
        {
            app.WithEnvironment(variable, value);
        }
        return app
            .WithHttpEndpoint(port: port, name: "http", isProxied: false)
            .WithHttpHealthCheck("/health")
            .WithEnvironment("DAPR_HTTP_PORT", httpPort.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithEnvironment("DAPR_GRPC_PORT", grpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithEnvironment("DAPR_API_TOKEN", mesh.ApiToken)
            .WithEnvironment("APP_API_TOKEN", onlyDaprCallsIt ? mesh.AppToken : "")
            .WithEnvironment(LocalRuntime.WriteXorExecuteVariable, LocalRuntime.WriteXorExecuteOff);
    }
}
