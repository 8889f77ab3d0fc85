import GatewayJSON
import GatewayCore
import NIOCore
import JWTAuth

/// Who may connect to a namespace.
enum Access: Sendable {
    case anyone
    case roles(Set<Principal.Role>)
}

/// The result of one client event.
enum EventOutcome: Sendable {
    /// Success: `fields` go into the ack (`{"ok":true,…}`); without an ack id the
    /// `confirmation` event is emitted instead, followed by `followUps` (the same state as
    /// events).
    case success(fields: [JSONMember] = [], confirmation: (String, JSONValue)? = nil, followUps: [(String, JSONValue)] = [])
    case failure(ClientError)
    /// Decided later, on other loops (admin commands that visit every socket).
    case deferred(EventLoopFuture<EventOutcome>)
}

/// What makes one namespace different; ``GatewayNamespace`` does the shared work (tokens,
/// connection caps, rate limits, `ping`, acks and errors, token expiry). A behaviour is built
/// with the parts it uses (its descriptor's `make` hands them over) and sees no other.
protocol NamespaceBehavior: Sendable {
    /// What the behaviour keeps per socket besides the shared ``SocketContext`` (none: Void).
    associatedtype SocketData = Void
    typealias Context = SocketContext<SocketData>

    /// The namespace's path (`/prices`); its entry in ``GatewayNamespaces`` is `descriptor`.
    static var path: NamespacePath { get }
    var access: Access { get }
    /// `/user` and `/admin`: `auth.refresh`, `auth.expiring`, TOKEN_EXPIRED disconnect.
    var enforcesTokenExpiry: Bool { get }
    /// `/user`: at most `maxConnectionsPerUser` sockets per user.
    var limitsSocketsPerUser: Bool { get }
    /// `/prices`, `/market`: `connection.authenticated` on connect.
    var announcesConnection: Bool { get }
    /// `/market`: channels that need a premium-tier token (`tiers.premiumChannels`).
    var hasPremiumChannels: Bool { get }
    /// `/user`: connection state recovery (`pid`/`offset`) for sockets that opt in.
    var offersRecovery: Bool { get }
    /// `/admin`: open during maintenance (admins end it), when the others refuse CONNECTs.
    var staysOpenInMaintenance: Bool { get }

    /// The behaviour's data for a socket that just connected (`recovery`: the plan of a socket
    /// that opted into connection state recovery).
    func socketData(recovery: RecoveryPlan?) -> SocketData
    func connected(_ socket: NamespaceSocket, context: Context)
    /// A lagging socket skipped part of a chained stream (`skipped`: its sequences, when known);
    /// see ``NamespaceHandler/resync(_:skipped:socket:state:)``.
    func resync(_ key: ConflationKey, skipped: ClosedRange<UInt64>?, socket: NamespaceSocket, context: Context)
    /// Before the shared clean-up (slots, timers, subscriptions) runs.
    func disconnected(_ socket: NamespaceSocket, context: Context, reason: DisconnectReason)
    /// The premium tier of a connected token ended (its `exp` passed without `auth.refresh`) on a
    /// namespace that keeps the socket: give up what only that tier may hold.
    func premiumExpired(_ socket: NamespaceSocket, context: Context)
    /// nil: this namespace has no such event.
    func handle(_ event: String, payload: JSONValue?, socket: NamespaceSocket, context: Context) -> EventOutcome?
}

extension NamespaceBehavior {
    var name: NamespacePath { Self.path }
    var enforcesTokenExpiry: Bool { false }
    var limitsSocketsPerUser: Bool { false }
    var announcesConnection: Bool { false }
    var hasPremiumChannels: Bool { false }
    var offersRecovery: Bool { false }
    var staysOpenInMaintenance: Bool { false }
    func resync(_ key: ConflationKey, skipped: ClosedRange<UInt64>?, socket: NamespaceSocket, context: Context) {
        socket.session.endResync(key)
    }

    func connected(_ socket: NamespaceSocket, context: Context) {}
    func disconnected(_ socket: NamespaceSocket, context: Context, reason: DisconnectReason) {}
    func premiumExpired(_ socket: NamespaceSocket, context: Context) {}
}

extension NamespaceBehavior where SocketData == Void {
    func socketData(recovery: RecoveryPlan?) {}
}

/// Payload helpers shared by the subscription events.
enum Payload {
    /// A non-empty array of distinct strings under `key`, or INVALID_PAYLOAD with an example.
    static func strings(_ payload: JSONValue?, key: String, example: String) -> Result<[String], ClientError> {
        guard let payload, payload.isObject else {
            return .failure(ClientError(.invalidPayload, "Send an object such as \(example)."))
        }
        guard case .array(let items)? = payload[key], !items.isEmpty else {
            return .failure(ClientError(.invalidPayload, "'\(key)' must be a non-empty array, as in \(example)."))
        }
        var seen = Set<String>()
        var values: [String] = []
        for item in items {
            guard let text = item.stringValue else {
                return .failure(ClientError(.invalidPayload, "Every entry of '\(key)' must be a string, as in \(example)."))
            }
            if seen.insert(text).inserted { values.append(text) }
        }
        return .success(values)
    }
}
