using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DaprShop.Sidecar.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;

namespace DaprShop.Sidecar.Tests.Actors;

public sealed class ActorTests
{
    /// <summary>A Configuration (config.yaml) enabling daprd's ActorStateTTL feature, kept apart from the resources folder.</summary>
    private static ResourcesFolder ActorStateTtlConfiguration() => new ResourcesFolder().With("config.yaml", """
        apiVersion: dapr.io/v1alpha1
        kind: Configuration
        metadata:
          name: actor-ttl
        spec:
          features:
            - name: ActorStateTTL
              enabled: true
        """);

    private static ResourcesFolder InMemoryActorStore() =>
        new ResourcesFolder().WithComponent("store", "state.in-memory", ("actorStateStore", "true"));

    /// <summary>
    /// A sidecar on the in-memory actor store whose app hosts actor type <c>Raw</c> and serves nothing else: enough for
    /// the reminder APIs, which only a hosting sidecar answers, when no reminder is meant to fire.
    /// </summary>
    private sealed class RawActorHost : IAsyncDisposable
    {
        private readonly TestMesh _mesh = new();
        private readonly ResourcesFolder _resources = InMemoryActorStore();
        private TestApp? _app;

        public SidecarProcess Sidecar { get; private set; } = null!;

        public static async Task<RawActorHost> StartAsync(string appId)
        {
            var host = new RawActorHost();
            try
            {
                host._app = await TestApp.StartAsync(a => a.MapGet("/dapr/config", () => Results.Json(new { entities = new[] { "Raw" } })));
                host.Sidecar = await SidecarProcess.StartAsync(new() { AppId = appId, AppPort = host._app.Port, ResourcesPaths = [host._resources.Path], MeshDirectory = host._mesh.Directory });
                return host;
            }
            catch
            {
                await host.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (Sidecar is not null)
            {
                await Sidecar.DisposeAsync();
            }
            if (_app is not null)
            {
                await _app.DisposeAsync();
            }
            _resources.Dispose();
            _mesh.Dispose();
        }
    }

    [Fact]
    public async Task An_app_calls_an_actor_hosted_by_another_app_through_its_own_sidecar()
    {
        using var mesh = new TestMesh();
        using var resources = InMemoryActorStore();
        await using var host = await ActorApp.StartAsync("counters", mesh, resources.Path, "host");
        await using var caller = await SidecarProcess.StartAsync(new() { AppId = "storefront", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });

        var proxy = ActorApp.Counter(caller.HttpPort, "basket-1");
        (await proxy.WhoAmI()).Should().Be("host");
        (await proxy.IncrementSlowly()).Should().Be(1);
        (await proxy.IncrementSlowly()).Should().Be(2);
        (await ActorApp.Counter(caller.HttpPort, "basket-2").IncrementSlowly()).Should().Be(1, "each actor id has its own state");

        host.Probe.Calls.Should().Be(4);
        using var metadata = JsonDocument.Parse(await host.Sidecar.CreateHttpClient().GetStringAsync("/v1.0/metadata"));
        var runtime = metadata.RootElement.GetProperty("actorRuntime");
        runtime.GetProperty("runtimeStatus").GetString().Should().Be("RUNNING");
        runtime.GetProperty("activeActors").EnumerateArray().Should().ContainSingle(a => a.GetProperty("type").GetString() == "CounterActor" && a.GetProperty("count").GetInt32() == 2);
        host.App.RequestsTo("/actors/CounterActor/basket-1/method/IncrementSlowly").Should().HaveCount(2)
            .And.OnlyContain(r => r.Method == "PUT", "the sidecar calls the app with PUT");
    }

    [Fact]
    public async Task Concurrent_calls_to_one_actor_run_one_at_a_time()
    {
        using var mesh = new TestMesh();
        using var resources = InMemoryActorStore();
        await using var host = await ActorApp.StartAsync("counters", mesh, resources.Path, "host");
        await using var caller = await SidecarProcess.StartAsync(new() { AppId = "storefront", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            ActorApp.Counter(i % 2 == 0 ? caller.HttpPort : host.SidecarHttpPort, "hot").IncrementSlowly()));

        results.Should().BeEquivalentTo(Enumerable.Range(1, 50), "each call saw the previous call's write");
        (await host.Proxy("hot").Count()).Should().Be(50);
        host.Probe.MaxInFlight.Should().Be(1, "never two calls inside one actor at once");
    }

    [Fact]
    public async Task Different_actor_ids_run_in_parallel()
    {
        using var mesh = new TestMesh();
        using var resources = InMemoryActorStore();
        await using var host = await ActorApp.StartAsync("counters", mesh, resources.Path, "host");

        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => host.Proxy($"id-{i}").IncrementSlowly()));

        host.Probe.MaxInFlight.Should().BeGreaterThan(1, "the turn lock is per actor id, not per type");
    }

    [Fact]
    public async Task Actor_state_is_saved_transactionally_under_daprds_keys_and_honours_ttl()
    {
        using var mesh = new TestMesh();
        using var resources = InMemoryActorStore();
        // Actor state takes a TTL only with daprd's ActorStateTTL feature.
        using var config = ActorStateTtlConfiguration();
        await using var host = await ActorApp.StartAsync("counters", mesh, resources.Path, "host", configPath: Path.Combine(config.Path, "config.yaml"));
        using var http = host.Sidecar.CreateHttpClient();
        var proxy = host.Proxy("cart-7");

        await proxy.Save("gone", "soon", 0);
        await proxy.SaveAndRemove("kept", "yes", "gone");
        using (var kept = await http.GetAsync("/v1.0/actors/CounterActor/cart-7/state/kept"))
        {
            kept.StatusCode.Should().Be(HttpStatusCode.OK);
            (await kept.Content.ReadAsStringAsync()).Should().Be("\"yes\"");
            kept.Headers.Contains("metadata.ttlExpireTime").Should().BeFalse();
        }
        using (var gone = await http.GetAsync("/v1.0/actors/CounterActor/cart-7/state/gone"))
        {
            gone.StatusCode.Should().Be(HttpStatusCode.NoContent);
        }

        await proxy.Save("short", "lived", 2);
        using (var withTtl = await http.GetAsync("/v1.0/actors/CounterActor/cart-7/state/short"))
        {
            withTtl.StatusCode.Should().Be(HttpStatusCode.OK);
            var expires = DateTimeOffset.Parse(withTtl.Headers.GetValues("metadata.ttlExpireTime").Single(), System.Globalization.CultureInfo.InvariantCulture);
            expires.Should().BeCloseTo(DateTimeOffset.UtcNow.AddSeconds(2), TimeSpan.FromSeconds(3));
        }
        await Eventually.HoldsAsync(() => http.GetAsync("/v1.0/actors/CounterActor/cart-7/state/short").Result.StatusCode == HttpStatusCode.NoContent,
            TimeSpan.FromSeconds(10), "the value expires after its TTL");

        // A transaction through the HTTP API: upsert and delete in one go.
        using var tx = await http.PutAsync("/v1.0/actors/CounterActor/cart-7/state", new StringContent(
            """[{"operation":"upsert","request":{"key":"a","value":{"n":1}}},{"operation":"delete","request":{"key":"kept"}}]""", Encoding.UTF8, "application/json"));
        tx.StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await http.GetStringAsync("/v1.0/actors/CounterActor/cart-7/state/a")).Should().Be("""{"n":1}""");
        (await http.GetAsync("/v1.0/actors/CounterActor/cart-7/state/kept")).StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Actor_state_of_an_actor_hosted_elsewhere_is_refused_with_instance_missing()
    {
        using var mesh = new TestMesh();
        using var resources = InMemoryActorStore();
        await using var host = await ActorApp.StartAsync("counters", mesh, resources.Path, "host");
        await using var other = await SidecarProcess.StartAsync(new() { AppId = "storefront", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var http = other.CreateHttpClient();

        using var response = await http.GetAsync("/v1.0/actors/CounterActor/x/state/count");

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errorCode").GetString().Should().Be("ERR_ACTOR_INSTANCE_MISSING");
    }

    [Fact]
    public async Task A_timer_fires_until_it_is_unregistered()
    {
        using var mesh = new TestMesh();
        using var resources = InMemoryActorStore();
        await using var host = await ActorApp.StartAsync("counters", mesh, resources.Path, "host");
        var proxy = host.Proxy("ticker");

        await proxy.StartTimer(200);
        await Eventually.HoldsAsync(() => host.Probe.TimerFires.GetValueOrDefault("ticker") >= 3, TimeSpan.FromSeconds(10), "the timer fires repeatedly");
        await proxy.StopTimer();
        await Task.Delay(300); // a callback already started may still finish
        var after = host.Probe.TimerFires["ticker"];
        await Task.Delay(1000);

        host.Probe.TimerFires["ticker"].Should().Be(after, "an unregistered timer does not fire again");
        host.App.Requests.Should().Contain(r => r.Method == "PUT" && r.Path == "/actors/CounterActor/ticker/method/timer/tick");
    }

    [Fact]
    public async Task A_reminder_fires_with_its_data_the_number_of_times_asked()
    {
        using var mesh = new TestMesh();
        using var resources = InMemoryActorStore();
        await using var host = await ActorApp.StartAsync("counters", mesh, resources.Path, "host");
        var proxy = host.Proxy("r-1");

        // The SDK sends R3/PT1S: with repetitions it only allows whole seconds.
        await proxy.RegisterReminder("thrice", 0, 1000, 3, "payload");
        (await proxy.ReminderPeriod("thrice")).Should().NotBeNull("the reminder can be read back while it is registered");
        await Eventually.HoldsAsync(() => host.Probe.RemindersOf("r-1", "thrice") >= 3, TimeSpan.FromSeconds(10), "the reminder fires three times");
        await Task.Delay(2000);

        host.Probe.RemindersOf("r-1", "thrice").Should().Be(3, "R3 means three firings");
        host.Probe.ReminderFires.Should().OnlyContain(f => f.Data == "payload");
        (await proxy.ReminderPeriod("thrice")).Should().BeNull("a reminder without repetitions left is removed");
    }

    [Fact]
    public async Task A_reminder_callback_can_unregister_its_own_reminder()
    {
        using var mesh = new TestMesh();
        using var resources = InMemoryActorStore();
        await using var host = await ActorApp.StartAsync("counters", mesh, resources.Path, "host");
        var proxy = host.Proxy("r-2");

        await proxy.RegisterReminder("once", 100, 200, 0, "stop-after-first");
        await Eventually.HoldsAsync(() => host.Probe.RemindersOf("r-2", "once") >= 1, TimeSpan.FromSeconds(10), "the reminder fires");
        await Task.Delay(1000);

        host.Probe.RemindersOf("r-2", "once").Should().Be(1);
        (await proxy.ReminderPeriod("once")).Should().BeNull();
    }

    [Fact]
    public async Task The_reminder_cancel_header_in_a_callback_reply_stops_the_reminder()
    {
        using var mesh = new TestMesh();
        using var resources = InMemoryActorStore();
        var fired = 0;
        // A hand-written app speaking the actor protocol, to answer with X-DaprReminderCancel.
        await using var app = await TestApp.StartAsync(a =>
        {
            a.MapGet("/dapr/config", () => Results.Json(new { entities = new[] { "Raw" } }));
            a.MapPut("/actors/Raw/{id}/method/remind/{name}", (HttpContext c) =>
            {
                Interlocked.Increment(ref fired);
                c.Response.Headers["X-DaprReminderCancel"] = "true";
                return Results.Ok();
            });
        });
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "raw", AppPort = app.Port, ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var http = sidecar.CreateHttpClient();

        using var created = await http.PostAsync("/v1.0/actors/Raw/1/reminders/r", new StringContent("""{"dueTime":"0s","period":"200ms","data":{"x":1}}""", Encoding.UTF8, "application/json"));
        created.StatusCode.Should().Be(HttpStatusCode.NoContent);
        await Eventually.HoldsAsync(() => Volatile.Read(ref fired) >= 1, TimeSpan.FromSeconds(10), "the reminder fires");
        await Task.Delay(1000);

        fired.Should().Be(1);
        using var gone = await http.GetAsync("/v1.0/actors/Raw/1/reminders/r");
        gone.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await gone.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errorCode").GetString().Should().Be("ERR_ACTOR_REMINDER_NOT_FOUND");
        var callback = app.Requests.First(r => r.Path == "/actors/Raw/1/method/remind/r");
        using var body = JsonDocument.Parse(callback.BodyText);
        body.RootElement.GetProperty("data").GetProperty("x").GetInt32().Should().Be(1);
        body.RootElement.GetProperty("period").GetString().Should().BeEmpty("daprd 1.18's Scheduler sends the data only");
        body.RootElement.GetProperty("dueTime").GetString().Should().BeEmpty();
    }

    [Fact]
    public async Task A_reminder_the_app_fails_to_take_is_tried_again_three_times_a_second_apart()
    {
        using var mesh = new TestMesh();
        using var resources = InMemoryActorStore();
        var attempts = new System.Collections.Concurrent.ConcurrentQueue<DateTimeOffset>();
        await using var app = await TestApp.StartAsync(a =>
        {
            a.MapGet("/dapr/config", () => Results.Json(new { entities = new[] { "Raw" } }));
            a.MapPut("/actors/Raw/{id}/method/remind/{name}", () =>
            {
                attempts.Enqueue(DateTimeOffset.UtcNow);
                return attempts.Count < 3 ? Results.StatusCode(500) : Results.Ok();
            });
        });
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "raw-retry", AppPort = app.Port, ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var http = sidecar.CreateHttpClient();

        (await http.PostAsync("/v1.0/actors/Raw/1/reminders/once", new StringContent("""{"dueTime":"0s"}""", Encoding.UTF8, "application/json"))).StatusCode.Should().Be(HttpStatusCode.NoContent);

        await Eventually.HoldsAsync(() => attempts.Count >= 3, TimeSpan.FromSeconds(15), "the failed callback is tried again");
        await Task.Delay(1500);
        attempts.Should().HaveCount(3, "the third attempt succeeded, so the one-shot reminder is done");
        var times = attempts.ToArray();
        (times[1] - times[0]).Should().BeGreaterThan(TimeSpan.FromMilliseconds(800), "the Scheduler's failure policy waits a second between tries");
        (await http.GetAsync("/v1.0/actors/Raw/1/reminders/once")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_timer_registered_for_an_actor_that_is_not_active_yet_wakes_it()
    {
        using var mesh = new TestMesh();
        using var resources = InMemoryActorStore();
        await using var app = await TestApp.StartAsync(a =>
        {
            a.MapGet("/dapr/config", () => Results.Json(new { entities = new[] { "Raw" } }));
            a.MapPut("/actors/Raw/{id}/method/timer/{name}", () => Results.Ok());
        });
        await using var sidecar = await SidecarProcess.StartAsync(new() { AppId = "raw-timer", AppPort = app.Port, ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        using var http = sidecar.CreateHttpClient();

        using var created = await http.PostAsync("/v1.0/actors/Raw/cold/timers/t", new StringContent("""{"dueTime":"0s","period":"10s","callback":"tick"}""", Encoding.UTF8, "application/json"));
        using var unknownType = await http.PostAsync("/v1.0/actors/Nope/cold/timers/t", new StringContent("""{"dueTime":"0s"}""", Encoding.UTF8, "application/json"));

        created.StatusCode.Should().Be(HttpStatusCode.NoContent, "daprd takes a timer for any id of a hosted type");
        await Eventually.HoldsAsync(() => app.RequestsTo("/actors/Raw/cold/method/timer/t").Any(), "the timer's first callback reaches the app");
        unknownType.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        (await unknownType.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errorCode").GetString().Should().Be("ERR_ACTOR_TIMER_CREATE");
    }

    [Fact]
    public async Task Actor_state_takes_ttl_in_seconds_only_with_daprds_actor_state_ttl_feature()
    {
        using var mesh = new TestMesh();
        using var resources = InMemoryActorStore();
        using var config = ActorStateTtlConfiguration();
        await using var app = await TestApp.StartAsync(a => a.MapGet("/dapr/config", () => Results.Json(new { entities = new[] { "Raw" } })));
        await using var plain = await SidecarProcess.StartAsync(new() { AppId = "ttl-plain", AppPort = app.Port, ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        // A mesh of its own, so that placement keeps actor Raw/1 on each sidecar.
        using var otherMesh = new TestMesh();
        await using var featured = await SidecarProcess.StartAsync(new() { AppId = "ttl-featured", AppPort = app.Port, ResourcesPaths = [resources.Path], MeshDirectory = otherMesh.Directory, ConfigPath = Path.Combine(config.Path, "config.yaml") });
        var body = """[{"operation":"upsert","request":{"key":"k","value":1,"metadata":{"ttlInSeconds":"60"}}}]""";

        using var refused = await plain.CreateHttpClient().PostAsync("/v1.0/actors/Raw/1/state", new StringContent(body, Encoding.UTF8, "application/json"));
        using var taken = await featured.CreateHttpClient().PostAsync("/v1.0/actors/Raw/1/state", new StringContent(body, Encoding.UTF8, "application/json"));

        refused.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        var error = await refused.Content.ReadFromJsonAsync<JsonElement>();
        error.GetProperty("errorCode").GetString().Should().Be("ERR_ACTOR_STATE_TRANSACTION_SAVE");
        error.GetProperty("message").GetString().Should().Contain("ActorStateTTL");
        taken.StatusCode.Should().Be(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task A_reminder_reads_back_as_daprd_1_18_describes_its_scheduler_job_over_http_and_grpc()
    {
        await using var host = await RawActorHost.StartAsync("raw-get");
        var sidecar = host.Sidecar;
        using var http = sidecar.CreateHttpClient();
        async Task<string> RegisterAndGet(string name, string body)
        {
            using var created = await http.PostAsync($"/v1.0/actors/Raw/1/reminders/{name}", new StringContent(body, Encoding.UTF8, "application/json"));
            created.StatusCode.Should().Be(HttpStatusCode.NoContent);
            using var read = await http.GetAsync($"/v1.0/actors/Raw/1/reminders/{name}");
            read.StatusCode.Should().Be(HttpStatusCode.OK);
            read.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
            return await read.Content.ReadAsStringAsync();
        }

        // The body and the answer of daprd's own integration test for GET (tests/integration/.../reminders/scheduler/get.go).
        var full = await RegisterAndGet("full", """{"data":"reminderdata","dueTime":"1h","period":"1s","ttl":"2552-01-01T00:00:00Z"}""");
        JsonNodeEquals(full, """{"period":"@every 1s","data":"reminderdata","actorID":"1","actorType":"Raw","dueTime":"1h","ttl":"2552-01-01T00:00:00Z"}""");

        // The period reads back as the Scheduler's schedule, whatever form it was written in; repetitions are not shown.
        JsonNodeEquals(await RegisterAndGet("iso", """{"dueTime":"1h","period":"R3/PT24H"}"""), """{"period":"@every 24h0m0s","actorID":"1","actorType":"Raw","dueTime":"1h"}""");
        JsonNodeEquals(await RegisterAndGet("short", """{"dueTime":"PT1H","period":"200ms","data":{"x":1}}"""), """{"period":"@every 200ms","data":{"x":1},"actorID":"1","actorType":"Raw","dueTime":"PT1H"}""");
        JsonNodeEquals(await RegisterAndGet("once", """{"dueTime":"1h"}"""), """{"actorID":"1","actorType":"Raw","dueTime":"1h"}""");

        using var channel = global::Grpc.Net.Client.GrpcChannel.ForAddress($"http://127.0.0.1:{sidecar.GrpcPort}");
        var grpc = new Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient(channel);
        var reminder = await grpc.GetActorReminderAsync(new() { ActorType = "Raw", ActorId = "1", Name = "full" });
        reminder.ActorType.Should().Be("Raw");
        reminder.ActorId.Should().Be("1");
        reminder.DueTime.Should().Be("1h");
        reminder.Period.Should().Be("@every 1s");
        reminder.Ttl.Should().Be("2552-01-01T00:00:00Z");
        reminder.Data.Is(Google.Protobuf.WellKnownTypes.BytesValue.Descriptor).Should().BeTrue("daprd wraps the job's JSON bytes in a BytesValue");
        reminder.Data.Unpack<Google.Protobuf.WellKnownTypes.BytesValue>().Value.ToStringUtf8().Should().Be("\"reminderdata\"");
        var once = await grpc.GetActorReminderAsync(new() { ActorType = "Raw", ActorId = "1", Name = "once" });
        once.HasPeriod.Should().BeFalse();
        once.HasTtl.Should().BeFalse();
        once.Data.Should().BeNull();
    }

    private static void JsonNodeEquals(string actual, string expected) =>
        System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(actual), System.Text.Json.Nodes.JsonNode.Parse(expected))
            .Should().BeTrue($"{actual} should equal {expected} (in any key order)");

    [Fact]
    public async Task Registering_a_reminder_again_replaces_it_unless_overwrite_is_false_as_in_daprds_overwrite_test()
    {
        await using var host = await RawActorHost.StartAsync("raw-overwrite");
        var sidecar = host.Sidecar;
        using var http = sidecar.CreateHttpClient();
        async Task<HttpResponseMessage> Register(string body) =>
            await http.PostAsync("/v1.0/actors/Raw/1234/reminders/helloworld", new StringContent(body, Encoding.UTF8, "application/json"));
        async Task<string> DueTime() =>
            (await http.GetFromJsonAsync<JsonElement>("/v1.0/actors/Raw/1234/reminders/helloworld")).GetProperty("dueTime").GetString()!;

        // The bodies and answers of daprd's integration test (tests/integration/suite/actors/reminders/overwrite.go).
        (await Register("""{"data":"reminderdata","dueTime":"12h"}""")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await DueTime()).Should().Be("12h");
        (await Register("""{"data":"reminderdata","dueTime":"48h"}""")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await DueTime()).Should().Be("48h");
        (await Register("""{"data":"reminderdata","dueTime":"12h", "overwrite": true}""")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await DueTime()).Should().Be("12h");

        using var refused = await Register("""{"data":"reminderdata","dueTime":"48h", "overwrite": false}""");
        refused.StatusCode.Should().Be(HttpStatusCode.Conflict);
        JsonNodeEquals(await refused.Content.ReadAsStringAsync(), """{"errorCode":"ERR_ACTOR_REMINDER_ALREADY_EXISTS","message":"actor reminder already exists: helloworld"}""");
        (await DueTime()).Should().Be("12h", "the refused registration changes nothing");

        // A new name is created whatever overwrite says; a non-boolean overwrite is a malformed body.
        using var fresh = await http.PostAsync("/v1.0/actors/Raw/1234/reminders/other", new StringContent("""{"dueTime":"1h","overwrite":false}""", Encoding.UTF8, "application/json"));
        fresh.StatusCode.Should().Be(HttpStatusCode.NoContent);
        using var malformed = await http.PostAsync("/v1.0/actors/Raw/1234/reminders/other", new StringContent("""{"dueTime":"1h","overwrite":"no"}""", Encoding.UTF8, "application/json"));
        malformed.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await malformed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errorCode").GetString().Should().Be("ERR_MALFORMED_REQUEST");

        using var channel = global::Grpc.Net.Client.GrpcChannel.ForAddress($"http://127.0.0.1:{sidecar.GrpcPort}");
        var grpc = new Dapr.Client.Autogen.Grpc.v1.Dapr.DaprClient(channel);
        await grpc.RegisterActorReminderAsync(new() { ActorType = "Raw", ActorId = "123", Name = "reminder1", DueTime = "24h" });
        await grpc.RegisterActorReminderAsync(new() { ActorType = "Raw", ActorId = "123", Name = "reminder1", DueTime = "48h" });
        await grpc.RegisterActorReminderAsync(new() { ActorType = "Raw", ActorId = "123", Name = "reminder1", DueTime = "12h", Overwrite = true });
        (await grpc.GetActorReminderAsync(new() { ActorType = "Raw", ActorId = "123", Name = "reminder1" })).DueTime.Should().Be("12h");
        var again = async () => await grpc.RegisterActorReminderAsync(new() { ActorType = "Raw", ActorId = "123", Name = "reminder1", DueTime = "48h", Overwrite = false });
        var status = (await again.Should().ThrowAsync<global::Grpc.Core.RpcException>()).Which.Status;
        status.StatusCode.Should().Be(global::Grpc.Core.StatusCode.AlreadyExists);
        status.Detail.Should().Be("actor reminder already exists: reminder1");
    }

    [Fact]
    public async Task A_reminder_period_in_days_months_or_years_is_refused_as_daprds_scheduler_refuses_it()
    {
        await using var host = await RawActorHost.StartAsync("raw-period");
        var sidecar = host.Sidecar;
        using var http = sidecar.CreateHttpClient();

        using var daily = await http.PostAsync("/v1.0/actors/Raw/1/reminders/daily", new StringContent("""{"dueTime":"1h","period":"P1D"}""", Encoding.UTF8, "application/json"));
        using var hourly = await http.PostAsync("/v1.0/actors/Raw/1/reminders/hourly", new StringContent("""{"dueTime":"1h","period":"PT24H"}""", Encoding.UTF8, "application/json"));

        daily.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        var error = await daily.Content.ReadFromJsonAsync<JsonElement>();
        error.GetProperty("errorCode").GetString().Should().Be("ERR_ACTOR_REMINDER_CREATE");
        error.GetProperty("message").GetString().Should().Contain("unsupported period format");
        hourly.StatusCode.Should().Be(HttpStatusCode.NoContent, "the same day as hours is a plain duration");
    }

    [Fact]
    public async Task Reminders_keep_firing_after_the_sidecar_and_then_the_app_restart_on_a_sqlite_store()
    {
        using var mesh = new TestMesh();
        var db = Path.Combine(Directory.CreateTempSubdirectory("daprshop-actors-").FullName, "actors.db");
        using var resources = new ResourcesFolder().WithComponent("store", "state.sqlite", ("connectionString", $"Data Source={db}"), ("actorStateStore", "true"));
        await using var host = await ActorApp.StartAsync("counters", mesh, resources.Path, "first");
        await host.Proxy("durable").RegisterReminder("beat", 0, 500, 0, "tick");
        await Eventually.HoldsAsync(() => host.Probe.RemindersOf("durable", "beat") >= 2, TimeSpan.FromSeconds(10), "the reminder fires before the restart");

        // The sidecar crashes and starts again on the same store and ports.
        host.Sidecar.Kill();
        var firedBefore = host.Probe.RemindersOf("durable", "beat");
        await host.Sidecar.DisposeAsync();
        host.Sidecar = await SidecarProcess.StartAsync(new() { AppId = "counters", AppPort = host.AppPort, ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory, HttpPort = host.SidecarHttpPort });
        await Eventually.HoldsAsync(() => host.Probe.RemindersOf("durable", "beat") >= firedBefore + 2, TimeSpan.FromSeconds(15), "the reminder fires after the sidecar restart");

        // The app restarts (a new process would see a fresh actor runtime).
        await host.RestartAppAsync("second");
        await Eventually.HoldsAsync(() => host.Probe.RemindersOf("durable", "beat") >= 2, TimeSpan.FromSeconds(15), "the reminder fires into the restarted app");

        // Stored as daprd stores it.
        await using var connection = new SqliteConnection($"Data Source={db}");
        await connection.OpenAsync();
        var keys = new List<string>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT key FROM state";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                keys.Add(reader.GetString(0));
            }
        }
        keys.Should().Contain("actors||CounterActor").And.Contain("actors||CounterActor||metadata");
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT value FROM state WHERE key = 'actors||CounterActor'";
            var list = JsonDocument.Parse((string)(await command.ExecuteScalarAsync())!).RootElement;
            list.EnumerateArray().Should().ContainSingle(r => r.GetProperty("actorID").GetString() == "durable" && r.GetProperty("name").GetString() == "beat");
        }
    }

    [Fact]
    public async Task An_idle_actor_is_deactivated_near_its_idle_time_not_at_the_next_scan_interval()
    {
        using var mesh = new TestMesh();
        using var resources = InMemoryActorStore();
        await using var host = await ActorApp.StartAsync("counters", mesh, resources.Path, "host", o =>
        {
            o.ActorIdleTimeout = TimeSpan.FromSeconds(2);
            o.ActorScanInterval = TimeSpan.FromSeconds(30);
        });

        await host.Proxy("sleepy").WhoAmI();
        var called = System.Diagnostics.Stopwatch.StartNew();
        await Eventually.HoldsAsync(() => host.Probe.Deactivated.Contains("sleepy"), TimeSpan.FromSeconds(20), "OnDeactivateAsync runs");

        called.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10), "daprd deactivates at the idle time, not at a 30 s scan");
        host.App.Requests.Should().Contain(r => r.Method == "DELETE" && r.Path == "/actors/CounterActor/sleepy");
        (await host.Proxy("sleepy").WhoAmI()).Should().Be("host", "a deactivated actor activates again on the next call");
    }

    [Fact]
    public async Task Two_replicas_share_the_actor_ids_and_each_id_stays_on_one_replica()
    {
        using var mesh = new TestMesh();
        using var resources = InMemoryActorStore();
        await using var one = await ActorApp.StartAsync("counters", mesh, resources.Path, "replica-1");
        await using var two = await ActorApp.StartAsync("counters", mesh, resources.Path, "replica-2");
        await using var caller = await SidecarProcess.StartAsync(new() { AppId = "storefront", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        await Task.Delay(600); // mesh views are cached for 500 ms

        var ids = Enumerable.Range(0, 40).Select(i => $"basket-{i}").ToList();
        var first = new Dictionary<string, string>();
        foreach (var id in ids)
        {
            first[id] = await ActorApp.Counter(caller.HttpPort, id).WhoAmI();
        }

        first.Values.Distinct().Should().BeEquivalentTo(["replica-1", "replica-2"], "ids spread over both replicas");
        foreach (var id in ids)
        {
            // Same host whichever sidecar the call enters through.
            (await ActorApp.Counter(caller.HttpPort, id).WhoAmI()).Should().Be(first[id]);
            (await ActorApp.Counter(one.SidecarHttpPort, id).WhoAmI()).Should().Be(first[id]);
            (await ActorApp.Counter(two.SidecarHttpPort, id).WhoAmI()).Should().Be(first[id]);
        }
        (one.Probe.Calls + two.Probe.Calls).Should().Be(160);
    }

    [Fact]
    public async Task When_a_replica_dies_its_actors_move_to_the_one_left()
    {
        using var mesh = new TestMesh();
        using var resources = InMemoryActorStore();
        await using var one = await ActorApp.StartAsync("counters", mesh, resources.Path, "replica-1");
        await using var two = await ActorApp.StartAsync("counters", mesh, resources.Path, "replica-2");
        await using var caller = await SidecarProcess.StartAsync(new() { AppId = "storefront", ResourcesPaths = [resources.Path], MeshDirectory = mesh.Directory });
        await Task.Delay(600);
        var ids = Enumerable.Range(0, 20).Select(i => $"b-{i}").ToList();
        var onTwo = new List<string>();
        foreach (var id in ids)
        {
            if (await ActorApp.Counter(caller.HttpPort, id).WhoAmI() == "replica-2")
            {
                onTwo.Add(id);
            }
        }
        onTwo.Should().NotBeEmpty();

        two.Sidecar.Kill();

        foreach (var id in onTwo)
        {
            (await ActorApp.Counter(caller.HttpPort, id).WhoAmI()).Should().Be("replica-1");
        }
    }
}
