import GatewayCore
import NIOCore

/// Where recovery sessions and `/user` events live beyond this instance (cluster mode: Redis),
/// so a client can recover on any instance (SPEC §8). Without one, recovery is this instance's
/// own (``UserEventHub``'s log and sessions).
public protocol SharedRecovery: Sendable {
    /// Starts a recovery-enabled CONNECT of `userId`: with a `pid`, takes that session (once)
    /// and reads what it missed after `offset`; either way says where the user's stream ends
    /// now (a fresh socket's baseline). Called once the bus follows the user, so every event
    /// after what this returns reaches the hub live. nil: the shared store is unreachable now.
    func begin(userId: String, pid: String?, offset: UInt64?, on eventLoop: any EventLoop) -> EventLoopFuture<SharedRecoveryAnswer>?
    /// Keeps a disconnected socket's session for the recovery window, for every instance. The
    /// future says whether the store has it (nil: unreachable now); until it does, this
    /// instance keeps its own copy as well.
    func keep(_ session: RecoverySession) -> EventLoopFuture<Bool>?
}
