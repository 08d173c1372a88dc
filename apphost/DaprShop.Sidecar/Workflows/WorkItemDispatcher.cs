using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Dapr.DurableTask.Protobuf;
using DaprShop.Sidecar.Tracing;
using Grpc.Core;

namespace DaprShop.Sidecar.Workflows;

/// <summary>A work item waiting for a worker; <see cref="IsCurrent"/> is asked again just before sending.</summary>
public sealed record PendingWorkItem(string Key, WorkItem Item, Func<bool> IsCurrent);

/// <summary>
/// Hands work items to the app's workers (each GetWorkItems stream). Items wait in one queue while no worker is
/// connected; an item sent to a worker stays "in flight" until its completion arrives, and goes back to the
/// queue when that worker's stream ends, so a restarted app receives again what it never finished (which daprd's
/// metrics count as a recoverable failure of that execution).
/// </summary>
public sealed class WorkItemDispatcher(WorkflowMetrics metrics, ILogger<WorkItemDispatcher> logger)
{
    private readonly Channel<PendingWorkItem> _queue = Channel.CreateUnbounded<PendingWorkItem>(new UnboundedChannelOptions { SingleReader = false });
    private readonly ConcurrentDictionary<string, Connection> _inFlight = new(StringComparer.Ordinal);
    private int _connections;

    public int ConnectedWorkers => Volatile.Read(ref _connections);

    private sealed class Connection
    {
        /// <summary>Items sent on this stream and not yet completed, with the moment each was sent.</summary>
        public readonly ConcurrentDictionary<string, (PendingWorkItem Item, long SentAt)> Items = new(StringComparer.Ordinal);
    }

    public void Enqueue(PendingWorkItem item) => _queue.Writer.TryWrite(item);

    /// <summary>
    /// The completion of an item arrived: it is no longer re-sent when the worker goes away. Answers how long the
    /// worker had it, if it was in flight.
    /// </summary>
    public TimeSpan? Completed(string key) =>
        _inFlight.TryRemove(key, out var connection) && connection.Items.TryRemove(key, out var sent) ? Stopwatch.GetElapsedTime(sent.SentAt) : null;

    public async Task ServeAsync(IServerStreamWriter<WorkItem> stream, CancellationToken cancellationToken)
    {
        var connection = new Connection();
        Interlocked.Increment(ref _connections);
        logger.LogInformation("Workflow worker connected ({Count} connected)", ConnectedWorkers);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var item = await _queue.Reader.ReadAsync(cancellationToken);
                if (!item.IsCurrent())
                {
                    continue;
                }
                connection.Items[item.Key] = (item, Stopwatch.GetTimestamp());
                _inFlight[item.Key] = connection;
                try
                {
                    await stream.WriteAsync(item.Item, cancellationToken);
                }
                catch
                {
                    connection.Items.TryRemove(item.Key, out _);
                    _inFlight.TryRemove(new KeyValuePair<string, Connection>(item.Key, connection));
                    Enqueue(item);
                    throw;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (InvalidOperationException)
        {
            // Writing to a stream whose call has ended.
        }
        finally
        {
            Interlocked.Decrement(ref _connections);
            var requeued = 0;
            foreach (var (key, (item, sentAt)) in connection.Items)
            {
                if (_inFlight.TryRemove(new KeyValuePair<string, Connection>(key, connection)) && item.IsCurrent())
                {
                    Unfinished(item.Item, Stopwatch.GetElapsedTime(sentAt));
                    Enqueue(item);
                    requeued++;
                }
            }
            logger.LogInformation("Workflow worker disconnected; {Count} unfinished work items go back to the queue", requeued);
        }
    }

    private void Unfinished(WorkItem item, TimeSpan elapsed)
    {
        if (item.ActivityRequest is { } activity)
        {
            metrics.Activity(activity.Name, WorkflowMetrics.Recoverable, elapsed);
        }
        else if (item.WorkflowRequest is { } turn
            && turn.PastEvents.Concat(turn.NewEvents).FirstOrDefault(e => e.ExecutionStarted is not null) is { } started)
        {
            metrics.Execution(started.ExecutionStarted.Name, WorkflowMetrics.Recoverable, null);
        }
    }
}
