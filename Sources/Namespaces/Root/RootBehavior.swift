import GatewayCore
import SocketIOCodec

/// `/`: anyone may connect; it carries system broadcasts (`system.broadcast`,
/// `server.shutdown`) and answers `ping`. Every other event is UNKNOWN_EVENT.
struct RootBehavior: NamespaceBehavior {
    let name = "/"
    let access = Access.anyone

    func handle(_ event: String, payload: JSONValue?, socket: NamespaceSocket, state: SocketState, services: GatewayServices) -> EventOutcome? {
        nil
    }
}
