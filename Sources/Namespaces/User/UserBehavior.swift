import GatewayJSON
import GatewayCore

/// `/user`: a valid token (role user or admin); the socket joins `user:{uid}`, `orders:{uid}`,
/// `positions:{uid}` and `wallet:{uid}` of its own user id. No event takes a user id, so no
/// socket can reach another user's rooms.
struct UserBehavior: NamespaceBehavior {
    let userEvents: UserEventHub
    let now: @Sendable () -> Double
    static let path: NamespacePath = "/user"
    static let descriptor = NamespaceDescriptor(
        path: path, configurationKey: "user", defaultRateLimit: .init(points: 50, duration: 1, blockDuration: 60)
    ) { GatewayNamespace(UserBehavior(userEvents: $0.services.userEvents, now: $0.services.now), services: $0.services) }
    let access = Access.roles([.user, .admin])
    let enforcesTokenExpiry = true
    let limitsSocketsPerUser = true
    let offersRecovery = true
    static let example = #"{"channels":["orders"]}"#

    /// A `/user` socket's own data: the channels it receives (kept here: rooms are gone by
    /// disconnect time) and its recovery plan, when it opted in.
    struct SocketData {
        let recovery: RecoveryPlan?
        var channels: Set<String> = []
    }

    func socketData(recovery: RecoveryPlan?) -> SocketData {
        SocketData(recovery: recovery)
    }

    func connected(_ socket: NamespaceSocket, context: Context) {
        guard let userId = context.principal?.userId else { return }
        switch context.data.recovery {
        case .restored(let session, let after, let fetched)?:
            context.data.channels = Set(session.channels)
            userEvents.restore(socket, session: session, after: after, fetched: fetched)
        case .fresh?, nil:
            context.data.channels = Set(NamespaceSettings.userChannels)
            Self.join(socket, userId: userId, channels: NamespaceSettings.userChannels, offsets: context.data.recovery != nil)
        }
    }

    /// Joins the user-wide room and the given channels' rooms (their `#offsets` twins for
    /// recovery-enabled sockets).
    static func join(_ socket: NamespaceSocket, userId: String, channels: [String], offsets: Bool) {
        socket.join(Room.user(channel: "user", user: userId, offsets: offsets))
        for channel in channels { socket.join(Room.user(channel: channel, user: userId, offsets: offsets)) }
    }

    func disconnected(_ socket: NamespaceSocket, context: Context, reason: DisconnectReason) {
        guard let plan = context.data.recovery, reason.isRecoverable, let userId = context.principal?.userId else { return }
        userEvents.keep(RecoverySessions.Session(
            pid: plan.pid, sid: socket.id, userId: userId,
            channels: NamespaceSettings.userChannels.filter(context.data.channels.contains),
            baseline: plan.baseline, disconnectedAt: now()
        ))
    }

    func handle(_ event: String, payload: JSONValue?, socket: NamespaceSocket, context: Context) -> EventOutcome? {
        guard event == "subscribe" || event == "unsubscribe", let userId = context.principal?.userId else { return nil }
        let channels: [String]
        switch Payload.strings(payload, key: "channels", example: Self.example) {
        case .failure(let error): return .failure(error)
        case .success(let values): channels = values
        }
        if let unknown = channels.first(where: { !NamespaceSettings.userChannels.contains($0) }) {
            return .failure(ClientError(.unknownChannel, "Unknown channel '\(unknown)'. Channels: \(NamespaceSettings.userChannels.joined(separator: ", "))."))
        }
        let offsets = context.data.recovery != nil
        for channel in channels {
            let room = Room.user(channel: channel, user: userId, offsets: offsets)
            if event == "subscribe" {
                socket.join(room)
                context.data.channels.insert(channel)
            } else {
                socket.leave(room)
                context.data.channels.remove(channel)
            }
        }
        let active = NamespaceSettings.userChannels.filter(context.data.channels.contains)
        let list = JSONValue.array(active.map { .string($0) })
        return .success(
            fields: [JSONMember("channels", list)],
            confirmation: ("subscription.confirmed", .object(["namespace": .string(name.value), "channels": list]))
        )
    }
}
