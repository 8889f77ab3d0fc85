import GatewayCore
import NIOCore

/// `/user` recovery across instances: the ``SharedRecovery`` of the hub, on any
/// ``HistoryStore``.
///
/// A recovery-enabled `/user` CONNECT in cluster mode, top to bottom:
/// 1. `GatewayNamespace.decide` takes the per-user slot: `ClusterUserSlots.acquire` (Cluster)
///    adds a lease in the shared store, then `UserInterest.acquireFollowed` counts the socket
///    here; the user's first socket here makes ``ClusterBus`` follow `user:{id}` on the broker,
///    and the CONNECT waits until the broker confirms.
/// 2. `GatewayNamespace.admit` asks `RecoveryPlan.decide`, which calls ``begin(userId:pid:offset:on:)``
///    here: the history store takes the kept session (once), reads the missed events, and
///    publishes a marker on `user:{id}`; when the marker comes back through the broker, every
///    event the read covered has reached the hub live, so replay and live stream meet exactly.
/// 3. `UserEventHub.settle` turns the answer into the plan, and `restore` replays on the
///    socket's loop under the hub's lock. Disconnecting keeps the session here and in the
///    store (``keep(_:)``).
public struct ClusterRecovery: SharedRecovery {
    let history: any HistoryStore

    public init(history: any HistoryStore) {
        self.history = history
    }

    public func begin(userId: String, pid: String?, offset: UInt64?, on eventLoop: any EventLoop) -> EventLoopFuture<SharedRecoveryAnswer>? {
        history.begin(userId: userId, pid: pid, offset: offset, following: ClusterChannels.user(userId), on: eventLoop)
    }

    public func keep(_ session: RecoverySession) -> EventLoopFuture<Bool>? {
        history.keep(session)
    }
}
