using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using DaprShop.Sidecar.Components.Bindings;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace DaprShop.Sidecar.Tests.Bindings;

public sealed class CronBindingTests
{
    [Fact]
    public async Task A_cron_binding_posts_to_the_app_every_second_at_its_route()
    {
        using var mesh = new TestMesh();
        await using var app = await TestApp.StartAsync(a =>
        {
            a.MapMethods("/ticks", ["OPTIONS"], () => Results.Ok());
            a.MapPost("/ticks", () => Results.Ok());
        });
        using var resources = new ResourcesFolder().WithComponent("every-second", "bindings.cron", ("schedule", "@every 1s"), ("route", "/ticks"));
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "cron", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });

        await Eventually.HoldsAsync(() => app.RequestsTo("/ticks").Count(r => r.Method == "POST") >= 3, "three cron events reach the app");

        var events = app.RequestsTo("/ticks").Where(r => r.Method == "POST").ToList();
        app.RequestsTo("/ticks").Should().Contain(r => r.Method == "OPTIONS", "the sidecar asks the app first");
        app.RequestsTo("/every-second").Should().BeEmpty("the route metadata replaces the component name");
        events.Should().AllSatisfy(e =>
        {
            e.Body.Should().BeEmpty();
            e.ContentType.Should().StartWith("application/json");
            e.Headers["timezone"].Should().Be("Local");
            e.Headers["readtimeutc"].Should().MatchRegex(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC$");
        });
        var times = events.Select(e => DateTime.ParseExact(e.Headers["readtimeutc"][..19], "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)).ToList();
        times.Zip(times.Skip(1), (a, b) => b - a).Should().AllSatisfy(gap => gap.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(1)), "events come once a second");
    }

    [Fact]
    public async Task An_app_answering_404_to_the_probe_or_an_output_only_cron_gets_no_events()
    {
        using var mesh = new TestMesh();
        await using var app = await TestApp.StartAsync(a =>
        {
            // /unwanted is not mapped: the probe gets 404.
            a.MapMethods("/control", ["OPTIONS"], () => Results.Ok());
            a.MapPost("/control", () => Results.Ok());
            a.MapMethods("/outbound-only", ["OPTIONS"], () => Results.Ok());
            a.MapPost("/outbound-only", () => Results.Ok());
        });
        using var resources = new ResourcesFolder()
            .WithComponent("unwanted", "bindings.cron", ("schedule", "@every 1s"))
            .WithComponent("outbound-only", "bindings.cron", ("schedule", "@every 1s"), ("direction", "output"))
            .WithComponent("control", "bindings.cron", ("schedule", "@every 1s"));
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "cron-404", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });

        // The control binding proves the others had time to fire.
        await Eventually.HoldsAsync(() => app.RequestsTo("/control").Count(r => r.Method == "POST") >= 3, "the control binding delivers");

        app.RequestsTo("/unwanted").Should().ContainSingle().Which.Method.Should().Be("OPTIONS");
        app.RequestsTo("/outbound-only").Should().NotContain(r => r.Method == "POST");
    }

    [Fact]
    public async Task Only_a_2xx_or_405_probe_subscribes_and_a_binding_declared_input_needs_no_probe()
    {
        using var mesh = new TestMesh();
        await using var app = await TestApp.StartAsync(a =>
        {
            a.MapMethods("/refused", ["OPTIONS"], () => Results.StatusCode(500));
            a.MapPost("/refused", () => Results.Ok());
            a.MapPost("/post-only", () => Results.Ok()); // OPTIONS answers 405: the route exists
            a.MapPost("/declared", () => Results.Ok()); // never probed
        });
        using var resources = new ResourcesFolder()
            .WithComponent("refused", "bindings.cron", ("schedule", "@every 1s"))
            .WithComponent("post-only", "bindings.cron", ("schedule", "@every 1s"))
            .WithComponent("declared", "bindings.cron", ("schedule", "@every 1s"), ("direction", "input"));
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "cron-probe", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, AppPort = app.Port });
        using var http = sidecar.CreateHttpClient();

        await Eventually.HoldsAsync(() => app.RequestsTo("/post-only").Count(r => r.Method == "POST") >= 2 && app.RequestsTo("/declared").Count(r => r.Method == "POST") >= 2,
            "a 405 probe and a declared input binding deliver");

        app.RequestsTo("/refused").Should().NotContain(r => r.Method == "POST", "a probe answered 500 does not subscribe");
        app.RequestsTo("/declared").Should().NotContain(r => r.Method == "OPTIONS");
        var metadata = await http.GetFromJsonAsync<JsonElement>("/v1.0/metadata");
        metadata.GetProperty("components").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "declared")
            .GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()).Should().Contain("INPUT_BINDING");
    }

    [Fact]
    public async Task An_invalid_schedule_stops_the_sidecar_naming_the_component_and_field()
    {
        using var mesh = new TestMesh();
        using var resources = new ResourcesFolder().WithComponent("broken-cron", "bindings.cron", ("schedule", "61 * * * *"));

        var (exitCode, output) = await SidecarProcess.RunToExitAsync(new() { AppId = "cron-bad", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });

        exitCode.Should().NotBe(0);
        output.Should().Contain("broken-cron").And.Contain("'schedule'").And.Contain("61 * * * *");
    }

    private static readonly DateTimeOffset Start = new(2025, 3, 14, 10, 20, 30, 500, TimeSpan.Zero);

    [Theory]
    [InlineData("*/5 * * * *", "2025-03-14T10:25:00Z")]
    [InlineData("30 * * * * *", "2025-03-14T10:21:30Z")]
    [InlineData("0 0 12 * * *", "2025-03-14T12:00:00Z")]
    [InlineData("@every 15s", "2025-03-14T10:20:45Z")]
    [InlineData("@every 1m30s", "2025-03-14T10:22:00Z")]
    [InlineData("@every 300ms", "2025-03-14T10:20:31Z")]
    [InlineData("@hourly", "2025-03-14T11:00:00Z")]
    [InlineData("@daily", "2025-03-15T00:00:00Z")]
    [InlineData("@midnight", "2025-03-15T00:00:00Z")]
    [InlineData("@weekly", "2025-03-16T00:00:00Z")]
    [InlineData("@monthly", "2025-04-01T00:00:00Z")]
    [InlineData("@yearly", "2026-01-01T00:00:00Z")]
    [InlineData("@annually", "2026-01-01T00:00:00Z")]
    [InlineData("0 0 0 20 * MON", "2025-03-17T00:00:00Z")] // day-of-month OR day-of-week, as Vixie cron
    [InlineData("0 0 0 * * 7", "2025-03-16T00:00:00Z")] // 7 is Sunday
    [InlineData("CRON_TZ=Asia/Tokyo 0 0 9 * * *", "2025-03-15T00:00:00Z")]
    public void Schedules_follow_dapr_cron_syntax_in_utc(string schedule, string expected)
    {
        var utc = schedule.StartsWith("CRON_TZ", StringComparison.Ordinal) ? schedule : "CRON_TZ=Etc/UTC " + schedule;

        CronSchedule.Parse(utc).Next(Start).Should().Be(DateTimeOffset.Parse(expected, CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("")]
    [InlineData("* * * *")]
    [InlineData("* * * * * * *")]
    [InlineData("60 * * * * *")]
    [InlineData("@every")]
    [InlineData("@every soon")]
    [InlineData("@fortnightly")]
    [InlineData("CRON_TZ=Nowhere/Atlantis * * * * *")]
    public void Invalid_schedules_are_refused(string schedule)
    {
        var parse = () => CronSchedule.Parse(schedule);

        parse.Should().Throw<FormatException>();
    }

    [Fact]
    public void Read_time_is_written_as_go_prints_a_utc_time()
    {
        CronBinding.GoTimeString(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(1_230_000)).Should().Be("2025-01-02 03:04:05.123 +0000 UTC");
        CronBinding.GoTimeString(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.FromHours(2))).Should().Be("2025-01-02 01:04:05 +0000 UTC");
    }
}
