import GatewayCore
import SocketIOCodec

/// `/admin`: tokens with role admin only. Its commands (broadcast, kick, maintenance, stats,
/// metrics) come with the operations work; until then it answers `ping` and `auth.refresh`.
struct AdminBehavior: NamespaceBehavior {
    let name = "/admin"
    let access = Access.roles([.admin])
    let enforcesTokenExpiry = true

    func handle(_ event: String, payload: JSONValue?, socket: NamespaceSocket, state: SocketState, services: GatewayServices) -> EventOutcome? {
        nil
    }
}
