import GatewayJSON
import GatewayCore

/// `/user`: a valid token (role user or admin); the socket joins `user:{uid}`, `orders:{uid}`,
/// `positions:{uid}` and `wallet:{uid}` of its own user id. No event takes a user id, so no
/// socket can reach another user's rooms.
struct UserBehavior: NamespaceBehavior {
    static let path = "/user"
    static let descriptor = NamespaceDescriptor(
        path: path, configurationKey: "user", defaultRateLimit: .init(points: 50, duration: 1, blockDuration: 60)
    ) { GatewayNamespace(UserBehavior(), services: $0.services) }
    let access = Access.roles([.user, .admin])
    let enforcesTokenExpiry = true
    let limitsSocketsPerUser = true
    let offersRecovery = true
    static let example = #"{"channels":["orders"]}"#

    func connected(_ socket: NamespaceSocket, state: SocketState, services: GatewayServices) {
        guard let userId = state.principal?.userId else { return }
        switch state.recovery {
        case .restored(let session, let after, let fetched)?:
            state.userChannels = Set(session.channels)
            services.userEvents.restore(socket, session: session, after: after, fetched: fetched)
        case .fresh?, nil:
            state.userChannels = Set(NamespaceSettings.userChannels)
            Self.join(socket, userId: userId, channels: NamespaceSettings.userChannels, offsets: state.recovery != nil)
        }
    }

    /// Joins the user-wide room and the given channels' rooms (their `#offsets` twins for
    /// recovery-enabled sockets).
    static func join(_ socket: NamespaceSocket, userId: String, channels: [String], offsets: Bool) {
        socket.join(Room.user("user", user: userId, offsets: offsets))
        for channel in channels { socket.join(Room.user(channel, user: userId, offsets: offsets)) }
    }

    func disconnected(_ socket: NamespaceSocket, state: SocketState, reason: DisconnectReason, services: GatewayServices) {
        guard let plan = state.recovery, reason.isRecoverable, let userId = state.principal?.userId else { return }
        services.userEvents.keep(RecoverySessions.Session(
            pid: plan.pid, sid: socket.id, userId: userId,
            channels: NamespaceSettings.userChannels.filter(state.userChannels.contains),
            baseline: plan.baseline, disconnectedAt: services.now()
        ))
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
        let offsets = state.recovery != nil
        for channel in channels {
            let room = Room.user(channel, user: userId, offsets: offsets)
            if event == "subscribe" {
                socket.join(room)
                state.userChannels.insert(channel)
            } else {
                socket.leave(room)
                state.userChannels.remove(channel)
            }
        }
        let active = NamespaceSettings.userChannels.filter(state.userChannels.contains)
        let list = JSONValue.array(active.map { .string($0) })
        return .success(
            fields: [JSONMember("channels", list)],
            confirmation: ("subscription.confirmed", .object(["namespace": .string(name), "channels": list]))
        )
    }
}
