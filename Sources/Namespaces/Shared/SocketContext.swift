import GatewayCore
import JWTAuth
import NIOCore

/// What ``GatewayNamespace`` keeps per socket for every namespace (the token, slots, the rate
/// key, timers, subscribed rooms), plus the behaviour's own `data` with its own type (`/user`:
/// its channels and recovery plan; nothing elsewhere). Confined to the socket's loop (hence
/// unchecked Sendable: captured by closures that run there).
final class SocketContext<Data>: @unchecked Sendable {
    var principal: Principal?
    /// Rate-limit key: the user when authenticated, else this connection.
    let rateKey: RateLimitKey
    /// Rooms joined through subscribe events: counted in `gateway_subscriptions` and, for an
    /// authenticated user, against the channel quota; their symbols are in ``SymbolInterest``.
    /// Kept here, typed: the socket's own room set is gone by disconnect time.
    var subscribed: Set<Room> = []
    /// Each symbol's heartbeat room (`heartbeatMs`), joined beside its subscriptions and not
    /// counted in any limit (at most one per subscribed symbol).
    var heartbeats: [String: Room] = [:]
    /// Client events waiting for a shared (Redis) token bucket's answer.
    var rateChecksInFlight = 0
    var heldUserSlot: String?
    var heldIpSlot: String?
    var expiryWarning: Scheduled<Void>?
    var expiry: Scheduled<Void>?
    /// The behaviour's own per-socket data.
    var data: Data

    init(principal: Principal?, socket: NamespaceSocket, data: Data) {
        self.principal = principal
        self.data = data
        rateKey = RateLimitKey(namespace: socket.namespace, owner: principal.map { .user($0.userId) } ?? .connection(socket.id))
    }

    func cancelTimers() {
        expiryWarning?.cancel()
        expiry?.cancel()
    }
}

/// Client events one socket may have waiting on a shared token bucket.
let maximumRateChecksInFlight = 64
