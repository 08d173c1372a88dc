using System.Threading.Channels;
using DaprShop.Sidecar.Components.PubSub;
using DaprShop.Sidecar.Resources;

namespace DaprShop.Sidecar.Runtime;

/// <summary>A message waiting in a batch, with the entry id the app answers for and the broker's handler waiting on it.</summary>
public sealed record BulkEntry(string EntryId, PubSubMessage Message, TaskCompletionSource Done);

/// <summary>
/// Gathers the messages a broker hands one by one into batches for a bulk subscription, as daprd's default bulk
/// subscriber does for brokers without native bulk reads: a batch goes to the app once
/// <see cref="BulkSubscribeOptions.MaxMessagesCount"/> are waiting or <see cref="BulkSubscribeOptions.MaxAwaitDuration"/>
/// after its first message, one batch at a time. Each broker handler waits for its own entry's outcome, so the
/// broker acknowledges or redelivers each message by itself.
/// </summary>
public sealed class BulkBatcher : IAsyncDisposable
{
    private readonly Channel<BulkEntry> _waiting = Channel.CreateUnbounded<BulkEntry>();
    private readonly BulkSubscribeOptions _options;
    private readonly Func<IReadOnlyList<BulkEntry>, CancellationToken, Task> _flush;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public BulkBatcher(BulkSubscribeOptions options, Func<IReadOnlyList<BulkEntry>, CancellationToken, Task> flush)
    {
        _options = options;
        _flush = flush;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>The broker's handler: returns once the message's entry succeeded (or was dropped), throws if it is to be redelivered.</summary>
    public async Task HandleAsync(PubSubMessage message, CancellationToken cancellationToken)
    {
        var entry = new BulkEntry(Guid.NewGuid().ToString(), message, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_waiting.Writer.TryWrite(entry))
        {
            throw new InvalidOperationException("the subscription is stopping");
        }
        await entry.Done.Task.WaitAsync(cancellationToken);
    }

    private async Task LoopAsync()
    {
        var reader = _waiting.Reader;
        var batch = new List<BulkEntry>(_options.MaxMessagesCount);
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token))
            {
                if (!reader.TryRead(out var first))
                {
                    continue;
                }
                batch.Add(first);
                var closed = false;
                using (var window = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
                {
                    window.CancelAfter(_options.MaxAwaitDuration);
                    try
                    {
                        while (batch.Count < _options.MaxMessagesCount)
                        {
                            if (reader.TryRead(out var next))
                            {
                                batch.Add(next);
                                continue;
                            }
                            if (!await reader.WaitToReadAsync(window.Token))
                            {
                                closed = true;
                                break;
                            }
                        }
                    }
                    catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
                    {
                        // the batch's time is up: send what came
                    }
                }
                if (closed)
                {
                    break; // the subscription is stopping: the batch goes back to its broker (below), not to an app being left
                }
                await FlushAsync(batch);
                batch = new List<BulkEntry>(_options.MaxMessagesCount);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        foreach (var entry in batch)
        {
            entry.Done.TrySetCanceled();
        }
    }

    private async Task FlushAsync(List<BulkEntry> batch)
    {
        try
        {
            await _flush(batch, _stop.Token);
        }
        catch (Exception ex)
        {
            foreach (var entry in batch)
            {
                entry.Done.TrySetException(ex);
            }
        }
        // An entry the flush left unsettled is redelivered by its broker rather than acknowledged by mistake.
        foreach (var entry in batch)
        {
            entry.Done.TrySetException(new InvalidOperationException($"bulk entry {entry.EntryId} was not settled"));
        }
    }

    public async ValueTask DisposeAsync()
    {
        _waiting.Writer.TryComplete();
        await _stop.CancelAsync();
        await _loop;
        while (_waiting.Reader.TryRead(out var left))
        {
            left.Done.TrySetCanceled();
        }
        _stop.Dispose();
    }
}
