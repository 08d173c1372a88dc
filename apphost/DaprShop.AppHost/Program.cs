using DaprShop.AppHost;
using DaprShop.Contracts;
using Microsoft.Extensions.Configuration;

var builder = DistributedApplication.CreateBuilder(args);
var mesh = builder.AddDaprMesh().WithProfileServers();

builder.AddProject<Projects.DaprShop_Catalog>(AppIds.Catalog).WithDaprSidecar(mesh);
builder.AddProject<Projects.DaprShop_Basket>(AppIds.Basket).WithDaprSidecar(mesh);
builder.AddProject<Projects.DaprShop_Inventory>(AppIds.Inventory).WithDaprSidecar(mesh);
builder.AddProject<Projects.DaprShop_Ordering>(AppIds.Ordering).WithDaprSidecar(mesh);
builder.AddProject<Projects.DaprShop_Payment>(AppIds.Payment).WithDaprSidecar(mesh);
builder.AddProject<Projects.DaprShop_Notifications>(AppIds.Notifications).WithDaprSidecar(mesh);

// Browsers reach the storefront through the gateway (directly, not through Dapr: Blazor's circuit is a WebSocket).
var storefront = builder.AddProject<Projects.DaprShop_Storefront>(AppIds.Storefront, launchProfileName: null)
    .WithDaprSidecar(mesh, onlyDaprCallsIt: false);

// The edge: a fixed, documented address (DaprShop:GatewayPort, default 5080) that browsers and partners use.
var gatewayPort = builder.Configuration.GetValue("DaprShop:GatewayPort", 5080);
builder.AddProject<Projects.DaprShop_Gateway>(AppIds.Gateway, launchProfileName: null)
    .WithDaprSidecar(mesh, appPort: gatewayPort, onlyDaprCallsIt: false)
    .WithReference(storefront)
    .WaitFor(storefront)
    .WithExternalHttpEndpoints()
    .AnnounceStorefront(gatewayPort);

builder.Build().Run();
