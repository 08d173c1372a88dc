namespace DaprShop.Sidecar.Components.Locks;

/// <summary>How an unlock ended, with the numbers of Dapr's <c>UnlockResponse.Status</c>.</summary>
public enum UnlockStatus { Success = 0, LockDoesNotExist = 1, LockBelongsToOthers = 2, InternalError = 3 }

/// <summary>The narrow contract of a distributed lock component. Keys arrive already prefixed by the runtime.</summary>
public interface ILockStore : IComponent
{
    /// <summary>True when the lock was free and is now <paramref name="owner"/>'s for <paramref name="expiry"/>.</summary>
    Task<bool> TryLockAsync(string key, string owner, TimeSpan expiry, CancellationToken cancellationToken);

    Task<UnlockStatus> UnlockAsync(string key, string owner, CancellationToken cancellationToken);
}
