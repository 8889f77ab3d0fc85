import GatewayJSON
import GatewayCore
import NIOCore

/// `/admin`: tokens with role admin only. Sockets sit in room `admin`, which gets `admin.stats`
/// every 5 s and `admin.alert`s.
struct AdminBehavior: NamespaceBehavior {
    static let path = "/admin"
    static let descriptor = NamespaceDescriptor(
        path: path, configurationKey: "admin", defaultRateLimit: .init(points: 200, duration: 1, blockDuration: 60)
    ) { services, _ in GatewayNamespace(AdminBehavior(), services: services) }
    let access = Access.roles([.admin])
    let enforcesTokenExpiry = true

    func connected(_ socket: NamespaceSocket, state: SocketState, services: GatewayServices) {
        socket.join(Room.admins)
    }

    func handle(_ event: String, payload: JSONValue?, socket: NamespaceSocket, state: SocketState, services: GatewayServices) -> EventOutcome? {
        let operations = AdminOperations(services: services)
        if event.hasPrefix("admin.") {
            var metadata = GatewayNamespace<AdminBehavior>.metadata(socket, state: state)
            metadata["admin.event"] = "\(event)"
            if let command = payload?["command"]?.stringValue { metadata["admin.command"] = "\(command)" }
            services.logger.notice("Admin request", metadata: metadata)
        }
        switch event {
        case "admin.broadcast":
            switch AdminOperations.Broadcast.parse(payload) {
            case .failure(let error): return .failure(error)
            case .success(let broadcast):
                operations.broadcast(broadcast)
                return .success(fields: [JSONMember("namespaces", .array(broadcast.namespaces.map { .string($0) }))])
            }
        case "admin.command":
            return command(payload, operations: operations, socket: socket, services: services)
        case "admin.metrics":
            return .success(fields: [JSONMember("metrics", operations.stats())])
        default:
            return nil
        }
    }

    private func command(_ payload: JSONValue?, operations: AdminOperations, socket: NamespaceSocket, services: GatewayServices) -> EventOutcome {
        switch payload?["command"]?.stringValue {
        case "kick":
            let target: AdminOperations.KickTarget
            if let userId = payload?["userId"]?.stringValue {
                target = .user(userId)
            } else if let sid = payload?["sid"]?.stringValue {
                target = .socket(sid)
            } else {
                return .failure(ClientError(.invalidPayload, #"Send {"command":"kick","userId":"…"} or {"command":"kick","sid":"…"}."#))
            }
            let kicked = operations.kick(target, on: socket.eventLoop).map { count in
                EventOutcome.success(fields: [JSONMember("kicked", .int(count))])
            }
            return .deferred(kicked)
        case "maintenance":
            guard let enabled = payload?["enabled"]?.boolValue else {
                return .failure(ClientError(.invalidPayload, #"Send {"command":"maintenance","enabled":true,"message":"…"}."#))
            }
            operations.setMaintenance(enabled: enabled, message: payload?["message"]?.stringValue)
            return .success(fields: [JSONMember("maintenance", .bool(enabled))])
        case "stats":
            return .success(fields: [JSONMember("stats", operations.stats())])
        default:
            return .failure(ClientError(.invalidPayload, "'command' must be kick, maintenance or stats."))
        }
    }
}
