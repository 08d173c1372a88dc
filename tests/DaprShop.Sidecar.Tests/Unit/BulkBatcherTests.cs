using System.Collections.Concurrent;
using DaprShop.Sidecar.Components.PubSub;
using DaprShop.Sidecar.Resources;
using DaprShop.Sidecar.Runtime;
using FluentAssertions;

namespace DaprShop.Sidecar.Tests.Unit;

public sealed class BulkBatcherTests
{
    private static PubSubMessage Message(int n) => new("orders", [(byte)n], "application/octet-stream", new Dictionary<string, string>());

    [Fact]
    public async Task A_batch_goes_out_when_it_is_full_and_each_handler_learns_its_own_entrys_outcome()
    {
        var batches = new ConcurrentQueue<int>();
        await using var batcher = new BulkBatcher(new BulkSubscribeOptions(3, TimeSpan.FromSeconds(30)), (batch, _) =>
        {
            batches.Enqueue(batch.Count);
            foreach (var entry in batch)
            {
                if (entry.Message.Data[0] == 2)
                {
                    entry.Done.TrySetException(new InvalidOperationException("entry 2 is to be redelivered"));
                }
                else
                {
                    entry.Done.TrySetResult();
                }
            }
            return Task.CompletedTask;
        });

        var handlers = Enumerable.Range(1, 3).Select(n => batcher.HandleAsync(Message(n), CancellationToken.None)).ToList();

        await handlers[0].WaitAsync(TimeSpan.FromSeconds(10));
        await handlers[2].WaitAsync(TimeSpan.FromSeconds(10));
        await ((Func<Task>)(() => handlers[1].WaitAsync(TimeSpan.FromSeconds(10)))).Should().ThrowAsync<InvalidOperationException>();
        batches.Should().Equal(3);
    }

    [Fact]
    public async Task A_partial_batch_goes_out_after_its_wait_and_an_entry_left_unsettled_is_redelivered()
    {
        await using var batcher = new BulkBatcher(new BulkSubscribeOptions(100, TimeSpan.FromMilliseconds(200)), (_, _) => Task.CompletedTask);

        var handler = batcher.HandleAsync(Message(1), CancellationToken.None);

        await ((Func<Task>)(() => handler.WaitAsync(TimeSpan.FromSeconds(10)))).Should().ThrowAsync<InvalidOperationException>("an entry nobody settled is never acknowledged by mistake");
    }

    [Fact]
    public async Task Stopping_with_a_batch_still_gathering_ends_its_handlers_at_once()
    {
        var batcher = new BulkBatcher(new BulkSubscribeOptions(100, TimeSpan.FromSeconds(30)), (_, _) => Task.CompletedTask);
        var handler = batcher.HandleAsync(Message(1), CancellationToken.None);
        await Task.Delay(100); // the batch is waiting for more messages

        await batcher.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        await ((Func<Task>)(() => handler.WaitAsync(TimeSpan.FromSeconds(10)))).Should().ThrowAsync<OperationCanceledException>();
    }
}
