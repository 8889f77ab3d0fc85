import GatewayJSON
import GatewayCore

/// `/`: anyone may connect; it carries system broadcasts (`system.broadcast`,
/// `server.shutdown`) and answers `ping`. Every other event is UNKNOWN_EVENT.
struct RootBehavior: NamespaceBehavior {
    /// Nothing of its own per socket beyond the shared context.
    typealias SocketData = Void
    static let path: NamespacePath = "/"
    static let descriptor = NamespaceDescriptor(
        path: path, configurationKey: "root", defaultRateLimit: .init(points: 100, duration: 1, blockDuration: 60)
    ) { GatewayNamespace(RootBehavior(), services: $0.services) }
    let access = Access.anyone

    func handle(_ event: String, payload: JSONValue?, socket: NamespaceSocket, context: Context) -> EventOutcome? {
        nil
    }
}
