/// Why a session or a namespace socket ended; the raw values are the reference server's reasons.
public enum DisconnectReason: String, Sendable, Hashable {
    case transportClose = "transport close"
    case transportError = "transport error"
    case pingTimeout = "ping timeout"
    case parseError = "parse error"
    case forcedClose = "forced close"
    case serverShuttingDown = "server shutting down"
    case forcedServerClose = "forced server close"
    case clientNamespaceDisconnect = "client namespace disconnect"
    case serverNamespaceDisconnect = "server namespace disconnect"
    case slowConsumer = "slow consumer"
    case connectTimeout = "connect timeout"
    case invalidState = "invalid state"
    case payloadTooLarge = "payload too large"
    /// An admin's kick: never recoverable.
    case kicked = "kicked"

    /// Reasons after which connection state recovery may restore the socket (Socket.IO 4.6).
    public var isRecoverable: Bool {
        switch self {
        case .transportClose, .transportError, .forcedClose, .pingTimeout, .serverShuttingDown, .forcedServerClose, .slowConsumer:
            return true
        default:
            return false
        }
    }
}
