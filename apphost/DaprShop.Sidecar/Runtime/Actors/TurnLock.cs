namespace DaprShop.Sidecar.Runtime.Actors;

/// <summary>Raised when a reentrant call chain goes deeper than <c>reentrancy.maxStackDepth</c>.</summary>
public sealed class ActorStackDepthException() : Exception("maximum stack depth exceeded");

/// <summary>
/// The per-actor turn lock: one turn at a time, waiters served in arrival order. With reentrancy, a call that
/// carries the reentrancy id of the chain holding the lock enters at once (up to the maximum stack depth), as
/// daprd lets a call chain A → B → A proceed.
/// </summary>
public sealed class TurnLock
{
    private readonly Lock _gate = new();
    private readonly LinkedList<Waiter> _waiters = new();
    private string? _holder;
    private int _depth;

    private sealed class Waiter(string? id)
    {
        public string? Id { get; } = id;
        public TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public bool IsHeld
    {
        get
        {
            lock (_gate)
            {
                return _depth > 0;
            }
        }
    }

    public int Waiting
    {
        get
        {
            lock (_gate)
            {
                return _waiters.Count;
            }
        }
    }

    /// <param name="reentrancyId">The call chain's id when reentrancy is enabled for the type; null otherwise.</param>
    public Task EnterAsync(string? reentrancyId, int maxStackDepth, CancellationToken cancellationToken)
    {
        LinkedListNode<Waiter> node;
        lock (_gate)
        {
            if (_depth == 0)
            {
                _holder = reentrancyId;
                _depth = 1;
                return Task.CompletedTask;
            }
            if (reentrancyId is not null && _holder == reentrancyId)
            {
                if (_depth >= maxStackDepth)
                {
                    throw new ActorStackDepthException();
                }
                _depth++;
                return Task.CompletedTask;
            }
            node = _waiters.AddLast(new Waiter(reentrancyId));
        }
        return WaitAsync(node, cancellationToken);
    }

    private async Task WaitAsync(LinkedListNode<Waiter> node, CancellationToken cancellationToken)
    {
        await using var registration = cancellationToken.Register(() =>
        {
            lock (_gate)
            {
                if (node.List is not null)
                {
                    _waiters.Remove(node);
                    node.Value.Ready.TrySetCanceled(cancellationToken);
                }
            }
        });
        await node.Value.Ready.Task;
    }

    /// <summary>Takes the lock only if nobody holds it (the idle scanner's way in).</summary>
    public bool TryEnter()
    {
        lock (_gate)
        {
            if (_depth != 0 || _waiters.Count != 0)
            {
                return false;
            }
            _holder = null;
            _depth = 1;
            return true;
        }
    }

    public void Exit()
    {
        lock (_gate)
        {
            if (_depth == 0)
            {
                throw new InvalidOperationException("the turn lock is not held");
            }
            if (--_depth > 0)
            {
                return;
            }
            _holder = null;
            if (_waiters.First is { } first)
            {
                _waiters.RemoveFirst();
                _holder = first.Value.Id;
                _depth = 1;
                first.Value.Ready.TrySetResult();
            }
        }
    }
}
