import GatewayCore
import SocketIOCodec

/// `/user`: a valid token (role user or admin); the socket joins `user:{uid}`, `orders:{uid}`,
/// `positions:{uid}` and `wallet:{uid}` of its own user id. No event takes a user id, so no
/// socket can reach another user's rooms.
struct UserBehavior: NamespaceBehavior {
    let name = "/user"
    let access = Access.roles([.user, .admin])
    let enforcesTokenExpiry = true
    let limitsSocketsPerUser = true
    static let example = #"{"channels":["orders"]}"#

    func connected(_ socket: NamespaceSocket, state: SocketState, services: GatewayServices) {
        guard let userId = state.principal?.userId else { return }
        socket.join("user:" + userId)
        for channel in NamespaceSettings.userChannels { socket.join("\(channel):\(userId)") }
    }

    func handle(_ event: String, payload: JSONValue?, socket: NamespaceSocket, state: SocketState, services: GatewayServices) -> EventOutcome? {
        guard event == "subscribe" || event == "unsubscribe", let userId = state.principal?.userId else { return nil }
        let channels: [String]
        switch Payload.strings(payload, key: "channels", example: Self.example) {
        case .failure(let error): return .failure(error)
        case .success(let values): channels = values
        }
        if let unknown = channels.first(where: { !NamespaceSettings.userChannels.contains($0) }) {
            return .failure(ClientError(.unknownChannel, "Unknown channel '\(unknown)'. Channels: \(NamespaceSettings.userChannels.joined(separator: ", "))."))
        }
        for channel in channels {
            if event == "subscribe" { socket.join("\(channel):\(userId)") } else { socket.leave("\(channel):\(userId)") }
        }
        let active = NamespaceSettings.userChannels.filter { socket.rooms.contains("\($0):\(userId)") }
        let list = JSONValue.array(active.map { .string($0) })
        return .success(
            fields: [JSONMember("channels", list)],
            confirmation: ("subscription.confirmed", .object(["namespace": .string(name), "channels": list]))
        )
    }
}
