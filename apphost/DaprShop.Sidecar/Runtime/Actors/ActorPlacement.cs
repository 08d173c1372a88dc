using DaprShop.Sidecar.Mesh;

namespace DaprShop.Sidecar.Runtime.Actors;

/// <summary>
/// Placement without a placement service: the hosts of an actor type are the live sidecars of the local mesh that
/// announce it, and the host of one actor id is chosen by rendezvous (highest random weight) hashing over their
/// instance ids. Every sidecar computes the same answer from the same mesh view, an id stays on its host while the
/// replica set is stable, and when a replica joins or leaves only the ids it gains or loses move.
/// </summary>
public sealed class ActorPlacement(MeshRegistry mesh)
{
    /// <summary>The live sidecars hosting <paramref name="actorType"/> (in this namespace).</summary>
    public IReadOnlyList<MeshInstance> HostsOf(string actorType) =>
        mesh.Instances().Where(i => i.Namespace == mesh.Self.Namespace && i.ActorTypes.Contains(actorType)).ToList();

    /// <summary>The sidecar that hosts this actor id, or null when no sidecar hosts the type.</summary>
    public MeshInstance? Lookup(string actorType, string actorId)
    {
        MeshInstance? best = null;
        ulong bestWeight = 0;
        foreach (var host in HostsOf(actorType))
        {
            var weight = Weight(host.InstanceId, actorType, actorId);
            if (best is null || weight > bestWeight || (weight == bestWeight && string.CompareOrdinal(host.InstanceId, best.InstanceId) < 0))
            {
                best = host;
                bestWeight = weight;
            }
        }
        return best;
    }

    public bool IsLocal(string actorType, string actorId) => Lookup(actorType, actorId) is { } host && mesh.IsSelf(host);

    public bool HostsTypeLocally(string actorType) => mesh.Self.ActorTypes.Contains(actorType);

    public void Invalidate() => mesh.Invalidate();

    /// <summary>FNV-1a over the three strings, then a SplitMix64 finaliser so that close inputs spread well.</summary>
    internal static ulong Weight(string instanceId, string actorType, string actorId)
    {
        var h = 14695981039346656037UL;
        foreach (var part in (ReadOnlySpan<string>)[instanceId, actorType, actorId])
        {
            foreach (var c in part)
            {
                h = (h ^ c) * 1099511628211UL;
            }
            h = (h ^ 0xFFFF) * 1099511628211UL; // separator
        }
        h ^= h >> 30;
        h *= 0xBF58476D1CE4E5B9UL;
        h ^= h >> 27;
        h *= 0x94D049BB133111EBUL;
        return h ^ (h >> 31);
    }
}
