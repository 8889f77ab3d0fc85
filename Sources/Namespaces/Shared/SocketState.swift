import GatewayCore
import JWTAuth
import NIOCore

/// Per-socket state the namespaces keep on `NamespaceSocket.userState`.
final class SocketState {
    var principal: Principal?
    /// Rate-limit key: the user when authenticated, else this connection.
    let rateKey: RateLimitKey
    /// Rooms joined through subscribe events: counted in `gateway_subscriptions` and, for an
    /// authenticated user, against the channel quota. Kept here: rooms are gone by disconnect time.
    var subscribedRooms = 0
    /// The symbols of those rooms, one entry per room (for ``SymbolInterest``).
    var subscribedSymbols: [String] = []
    /// Client events waiting for a shared (Redis) token bucket's answer.
    var rateChecksInFlight = 0
    static let maximumRateChecksInFlight = 64
    var heldUserSlot: String?
    var heldIpSlot: String?
    var expiryWarning: Scheduled<Void>?
    var expiry: Scheduled<Void>?
    /// `/user` sockets that opted into connection state recovery.
    var recovery: RecoveryPlan?
    /// `/user` channels this socket receives (kept here: rooms are gone by disconnect time).
    var userChannels: Set<String> = []

    init(principal: Principal?, socket: NamespaceSocket) {
        self.principal = principal
        rateKey = RateLimitKey(namespace: socket.namespace, owner: principal.map { .user($0.userId) } ?? .connection(socket.id))
    }

    func cancelTimers() {
        expiryWarning?.cancel()
        expiry?.cancel()
    }
}

extension NamespaceSocket {
    var state: SocketState? { userState as? SocketState }
}
