// Benchmarks: starts real sidecar processes (as the sidecar tests do) or the whole shop (as the shop tests do),
// measures, prints markdown tables.
//
//   dotnet run -c Release --project tests/DaprShop.Benchmarks -- [--quick] [--only name[,name]] [--out docs/benchmarks.md]
//
//   --quick   short phases for a smoke check; the numbers are rougher
//   --only    run only the named benchmarks: invoke, state-memory, state-sqlite, pubsub, actors, workflows (the sidecar),
//             shop-catalog, shop-checkout (the whole shop); a prefix such as "state" or "shop" works
//   --out     rewrite the sections that ran (between <!-- bench:sidecar:start/end --> and <!-- bench:shop:start/end -->)
//             of that markdown file (a relative path is taken from the repository root)
using System.Diagnostics;
using DaprShop.Benchmarks;
using DaprShop.Testing;

var quick = false;
string? only = null;
string? outPath = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--quick":
            quick = true;
            break;
        case "--only" when i + 1 < args.Length:
            only = args[++i];
            break;
        case "--out" when i + 1 < args.Length:
            outPath = args[++i];
            break;
        case "-h" or "--help":
            Console.WriteLine("usage: dotnet run -c Release --project tests/DaprShop.Benchmarks -- [--quick] [--only invoke|state-memory|state-sqlite|pubsub|actors|workflows|shop-catalog|shop-checkout[,...]] [--out docs/benchmarks.md]");
            return 0;
        default:
            Console.Error.WriteLine($"unknown argument '{args[i]}' (try --help)");
            return 2;
    }
}

var sidecarReport = new Report();
var shopReport = new Report("shop", "Whole shop") { CpuOf = "shop" };
var benchmarks = new (string Name, Report Report, Func<Durations, Report, Task> Run)[]
{
    ("invoke", sidecarReport, InvocationBench.RunAsync),
    ("state-memory", sidecarReport, (d, r) => StateBench.RunAsync("state.in-memory", d, r)),
    ("state-sqlite", sidecarReport, (d, r) => StateBench.RunAsync("state.sqlite", d, r)),
    ("pubsub", sidecarReport, PubSubBench.RunAsync),
    ("actors", sidecarReport, ActorBench.RunAsync),
    ("workflows", sidecarReport, WorkflowBench.RunAsync),
    ("shop-catalog", shopReport, ShopBench.CatalogAsync),
    ("shop-checkout", shopReport, ShopBench.CheckoutAsync),
};
var selected = only is null
    ? benchmarks
    : benchmarks.Where(b => only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Any(o => b.Name.StartsWith(o, StringComparison.OrdinalIgnoreCase))).ToArray();
if (selected.Length == 0)
{
    Console.Error.WriteLine($"--only {only} names no benchmark (known: {string.Join(", ", benchmarks.Select(b => b.Name))})");
    return 2;
}

if (!File.Exists(Repo.SidecarDll))
{
    Console.Error.WriteLine($"The sidecar is not built: {Repo.SidecarDll}");
    return 1;
}
#if DEBUG
Console.WriteLine("WARNING: a Debug build measures a Debug sidecar; run with -c Release for numbers worth keeping.");
#endif
Console.WriteLine($"Sidecar: {Repo.SidecarDll}");
Console.WriteLine($"Machine: {Report.Machine()}");
Console.WriteLine();

ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
ThreadPool.SetMinThreads(Math.Max(minWorkers, 32), minIo);

var durations = quick ? Durations.Quick : Durations.Full;
var total = Stopwatch.StartNew();
var failed = false;
foreach (var (name, report, run) in selected)
{
    Console.WriteLine($"== {name}");
    var watch = Stopwatch.StartNew();
    try
    {
        await run(durations, report);
    }
    catch (Exception ex)
    {
        failed = true;
        Console.Error.WriteLine($"  {name} FAILED: {ex}");
        report.Rows.Add(new Row(name, "—", "failed: " + ex.Message.Split('\n')[0].Replace("|", "\\|", StringComparison.Ordinal), "no"));
    }
    Console.WriteLine($"  ({watch.Elapsed.TotalSeconds:0.0} s)");
}

var mode = string.Join(' ', args);
foreach (var report in selected.Select(b => b.Report).Distinct())
{
    Console.WriteLine();
    Console.WriteLine($"## {report.Title} benchmarks ({(quick ? "quick" : "full")} run, {total.Elapsed.TotalSeconds:0} s in all)");
    Console.WriteLine();
    Console.Write(report.SummaryTable());
    Console.WriteLine();
    Console.Write(report.MeasurementTable());
    Console.WriteLine();
    foreach (var note in report.Notes)
    {
        Console.WriteLine($"- {note}");
    }
    if (outPath is not null)
    {
        report.WriteSection(outPath, report.Section(mode));
    }
}
return failed ? 1 : 0;
