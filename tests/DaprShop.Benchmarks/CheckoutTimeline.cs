using System.Globalization;
using Dapr.DurableTask.Protobuf;
using DaprShop.Contracts;
using DaprShop.Testing;
using Grpc.Net.Client;

namespace DaprShop.Benchmarks;

/// <summary>
/// Where a checkout's time goes, read from the checkout workflows' own histories (the ordering sidecar's
/// <c>GetInstanceHistory</c>): the request until the instance exists, then each activity (scheduled → its answer
/// arrived: the turn's durable write, the dispatch to the worker and the activity's own calls), the queue before the
/// turn its answer triggers (answer arrived → turn dispatched) and that turn (dispatched → its actions applied: the
/// worker's replay and the sidecar's bookkeeping). Activities scheduled in one turn overlap.
/// </summary>
public static class CheckoutTimeline
{
    public static async Task<string> DescribeAsync(WholeShop shop, IReadOnlyList<(string OrderId, DateTime SubmittedUtc)> orders)
    {
        if (orders.Count == 0)
        {
            return "no checkout to describe.";
        }
        var ordering = shop.Endpoints.Single(e => e.AppId == AppIds.Ordering);
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{ordering.SidecarGrpcPort}");
        var client = new TaskHubSidecarService.TaskHubSidecarServiceClient(channel);
        var segments = new Dictionary<string, List<double>>();
        var order = new List<string>();
        void Add(string segment, DateTime from, DateTime to)
        {
            if (!segments.TryGetValue(segment, out var list))
            {
                segments[segment] = list = [];
                order.Add(segment);
            }
            list.Add((to - from).TotalMilliseconds);
        }

        foreach (var (orderId, submittedUtc) in orders)
        {
            var history = (await client.GetInstanceHistoryAsync(new GetInstanceHistoryRequest { InstanceId = orderId })).Events;
            var scheduled = new Dictionary<int, (string Name, DateTime At)>();
            var seen = new Dictionary<string, int>();
            // A turn starts (WorkflowStarted) with the answers it delivers after it in the history; it ends when its
            // actions are applied (the first TaskScheduled or ExecutionCompleted it adds).
            DateTime? turnStarted = null;
            (string Name, DateTime At)? lastAnswer = null;
            foreach (var e in history)
            {
                var at = e.Timestamp.ToDateTime();
                switch (e.EventTypeCase)
                {
                    case HistoryEvent.EventTypeOneofCase.ExecutionStarted:
                        Add("request → workflow created", submittedUtc, at);
                        break;
                    case HistoryEvent.EventTypeOneofCase.WorkflowStarted:
                        turnStarted = at;
                        lastAnswer = null;
                        break;
                    case HistoryEvent.EventTypeOneofCase.TaskCompleted:
                        if (scheduled.TryGetValue(e.TaskCompleted.TaskScheduledId, out var s))
                        {
                            Add($"{s.Name}", s.At, at);
                            if (lastAnswer is null || at > lastAnswer.Value.At)
                            {
                                lastAnswer = (s.Name, at);
                            }
                        }
                        break;
                    case HistoryEvent.EventTypeOneofCase.TaskScheduled or HistoryEvent.EventTypeOneofCase.ExecutionCompleted:
                        if (turnStarted is { } started)
                        {
                            var after = lastAnswer?.Name ?? "start";
                            if (lastAnswer is { } answer)
                            {
                                Add($"queued after {after}", answer.At, started);
                            }
                            Add($"turn after {after}", started, at);
                            turnStarted = null;
                        }
                        if (e.TaskScheduled is { } task)
                        {
                            var n = seen[task.Name] = seen.GetValueOrDefault(task.Name) + 1;
                            scheduled[e.EventId] = (n > 1 ? $"{task.Name} #{n}" : task.Name, at);
                        }
                        else
                        {
                            Add("whole workflow", history[0].Timestamp.ToDateTime(), at);
                        }
                        break;
                }
            }
        }
        var parts = order.Select(name => $"{name} {Mean(segments[name])}");
        return $"where a checkout's time goes (mean ms over its last {orders.Count} checkouts, from their workflow histories; activities scheduled in one turn overlap): {string.Join("; ", parts)}.";
    }

    private static string Mean(List<double> values) => values.Average().ToString("0.0", CultureInfo.InvariantCulture);
}
