using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace DaprShop.AppHost;

/// <summary>
/// Servers a profile needs, started as Aspire resources before any sidecar: a container where a container engine
/// runs, the locally installed server binaries otherwise. The embedded default needs none.
/// </summary>
public static class StateServers
{
    public const string PostgresConnectionVariable = "DAPRSHOP_POSTGRES_CONNECTION";

    /// <summary>Adds the servers <paramref name="mesh"/>'s profile needs and hands their addresses to every sidecar.</summary>
    public static DaprMesh WithProfileServers(this DaprMesh mesh)
    {
        if (mesh.Profile == "postgres")
        {
            mesh.AddPostgres();
            mesh.AddRedis();
            mesh.AddMailSink();
        }
        return mesh;
    }

    public const string SmtpPortVariable = "DAPRSHOP_SMTP_PORT";
    public const string RedisHostVariable = "DAPRSHOP_REDIS_HOST";
    public const string RedisPasswordVariable = "DAPRSHOP_REDIS_PASSWORD";

    /// <summary>
    /// The profile's broker and shared cache (<c>pubsub.redis</c>, <c>state.redis</c>): Aspire's Redis container where a
    /// container engine runs, the local <c>redis-server</c> otherwise, with a password generated for the run either way.
    /// </summary>
    private static void AddRedis(this DaprMesh mesh)
    {
        var builder = mesh.Builder;
        if (ContainerEngineRuns())
        {
            // Not exercised on machines without a container engine (this project's CI): Aspire's own integration.
            var server = builder.AddRedis("redis").WithDataVolume("daprshop-redis").WithPersistence();
            var endpoint = server.GetEndpoint("tcp");
            mesh.UseServer(server, RedisHostVariable, ReferenceExpression.Create($"{endpoint.Property(EndpointProperty.Host)}:{endpoint.Property(EndpointProperty.Port)}"));
            mesh.UseServer(server, RedisPasswordVariable, ReferenceExpression.Create($"{server.Resource.PasswordParameter!}"));
            return;
        }

        var port = mesh.FreePort();
        var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        var healthCheck = "redis-answers-ping";
        builder.Services.AddHealthChecks().AddAsyncCheck(healthCheck, async cancellationToken =>
            await RedisPing.AnswersAsync(port, password, cancellationToken) ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("no PONG yet"));
        var local = builder.AddExecutable("redis", "bash", mesh.RepositoryRoot,
                Path.Combine(mesh.RepositoryRoot, "apphost", "scripts", "run-redis.sh"), Path.Combine(mesh.DataDirectory, "redis"), port.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithEnvironment(RedisPasswordVariable, password)
            .WithHealthCheck(healthCheck);
        mesh.UseServer(local, RedisHostVariable, ReferenceExpression.Create($"127.0.0.1:{port.ToString(System.Globalization.CultureInfo.InvariantCulture)}"));
        mesh.UseServer(local, RedisPasswordVariable, ReferenceExpression.Create($"{password}"));
    }

    /// <summary>
    /// The profile's mail server (its <c>outbox</c> is <c>bindings.smtp</c>): DaprShop's development mail sink, a .NET
    /// project, so it runs the same with or without a container engine. Mail lands in <c>{data}/mail</c> and is listed
    /// at the sink's <c>/messages</c>; the notifications service sends the body for the binding to wrap.
    /// </summary>
    private static void AddMailSink(this DaprMesh mesh)
    {
        var smtpPort = mesh.FreePort();
        var sink = mesh.Builder.AddProject<Projects.DaprShop_MailSink>("mailsink", launchProfileName: null)
            .WithHttpEndpoint(port: mesh.FreePort(), name: "http", isProxied: false)
            .WithEnvironment("MailSink__SmtpPort", smtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithEnvironment("MailSink__Directory", Path.Combine(mesh.DataDirectory, "mail"))
            .WithHttpHealthCheck("/health");
        mesh.UseServer(sink, SmtpPortVariable, ReferenceExpression.Create($"{smtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture)}"));
        mesh.UseAppSetting(DaprShop.Contracts.AppIds.Notifications, "Notifications__Payload", "Body");
    }

    private static void AddPostgres(this DaprMesh mesh)
    {
        var builder = mesh.Builder;
        if (ContainerEngineRuns())
        {
            // Not exercised on machines without a container engine (this project's CI): Aspire's own integration.
            var server = builder.AddPostgres("postgres").WithDataVolume("daprshop-postgres");
            var endpoint = server.GetEndpoint("tcp");
            var connection = ReferenceExpression.Create(
                $"host={endpoint.Property(EndpointProperty.Host)} port={endpoint.Property(EndpointProperty.Port)} user=postgres password={server.Resource.PasswordParameter} dbname=postgres");
            mesh.UseServer(server, PostgresConnectionVariable, connection);
            return;
        }

        var port = mesh.FreePort();
        var data = Path.Combine(mesh.DataDirectory, "postgres");
        var connectionString = $"host=127.0.0.1 port={port} user=postgres dbname=postgres";
        var healthCheck = "postgres-accepts-queries";
        builder.Services.AddHealthChecks().AddAsyncCheck(healthCheck, async cancellationToken =>
        {
            try
            {
                await using var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=false;Timeout=3");
                await connection.OpenAsync(cancellationToken);
                await using var command = new NpgsqlCommand("select 1", connection);
                await command.ExecuteScalarAsync(cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                return HealthCheckResult.Unhealthy(e.Message);
            }
        });
        var local = builder.AddExecutable("postgres", "bash", mesh.RepositoryRoot,
                Path.Combine(mesh.RepositoryRoot, "apphost", "scripts", "run-postgres.sh"), data, port.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithHealthCheck(healthCheck);
        mesh.UseServer(local, PostgresConnectionVariable, ReferenceExpression.Create($"{connectionString}"));
    }

    private static bool ContainerEngineRuns()
    {
        // "docker info" reaches the daemon; the client alone (as on this project's CI machines) is not enough.
        try
        {
            using var docker = Process.Start(new ProcessStartInfo("docker", "info --format {{.ServerVersion}}")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            if (docker is null)
            {
                return false;
            }
            if (!docker.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                docker.Kill();
                return false;
            }
            return docker.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
