import GatewayJSON
import GatewayCore
import Logging
import NIOCore

/// `/admin`: tokens with role admin only. Sockets sit in room `admin`, which gets `admin.stats`
/// every 5 s and `admin.alert`s.
struct AdminBehavior: NamespaceBehavior {
    /// Nothing of its own per socket beyond the shared context.
    typealias SocketData = Void
    static let path: NamespacePath = "/admin"
    static let descriptor = NamespaceDescriptor(
        path: path, configurationKey: "admin", defaultRateLimit: .init(points: 200, duration: 1, blockDuration: 60)
    ) { GatewayNamespace(AdminBehavior(bus: $0.bus, operations: AdminOperations(services: $0.services), logger: $0.services.logger), services: $0.services) }
    /// Admin broadcasts go through the bus: to every instance in cluster mode.
    let bus: any GatewayBus
    let operations: AdminOperations
    let logger: Logger
    let access = Access.roles([.admin])
    let enforcesTokenExpiry = true
    /// Admins end maintenance, so they can connect during it.
    let staysOpenInMaintenance = true

    func connected(_ socket: NamespaceSocket, context: Context) {
        socket.join(Room.admins)
    }

    func handle(_ event: String, payload: JSONValue?, socket: NamespaceSocket, context: Context) -> EventOutcome? {
        if event.hasPrefix("admin.") {
            var metadata = GatewayNamespace<AdminBehavior>.metadata(socket, context: context)
            metadata["admin.event"] = "\(event)"
            if let command = payload?["command"]?.stringValue { metadata["admin.command"] = "\(command)" }
            logger.notice("Admin request", metadata: metadata)
        }
        switch event {
        case "admin.broadcast":
            switch AdminOperations.Broadcast.parse(payload) {
            case .failure(let error): return .failure(error)
            case .success(let broadcast):
                bus.broadcast(broadcast)
                return .success(fields: [JSONMember("namespaces", .array(broadcast.namespaces.map { .string($0.value) }))])
            }
        case "admin.command":
            return command(payload, socket: socket)
        case "admin.metrics":
            return .success(fields: [JSONMember("metrics", operations.stats())])
        default:
            return nil
        }
    }

    private func command(_ payload: JSONValue?, socket: NamespaceSocket) -> EventOutcome {
        switch payload?["command"]?.stringValue {
        case "kick":
            guard let target = AdminOperations.KickTarget(payload) else {
                return .failure(ClientError(.invalidPayload, #"Send {"command":"kick","userId":"…"} or {"command":"kick","sid":"…"}."#))
            }
            let kicked = bus.kick(target, on: socket.eventLoop).map { count in
                EventOutcome.success(fields: [JSONMember("kicked", .int(count))])
            }
            return .deferred(kicked)
        case "maintenance":
            guard let enabled = payload?["enabled"]?.boolValue else {
                return .failure(ClientError(.invalidPayload, #"Send {"command":"maintenance","enabled":true,"message":"…"}."#))
            }
            bus.maintenance(enabled: enabled, message: payload?["message"]?.stringValue)
            return .success(fields: [JSONMember("maintenance", .bool(enabled))])
        case "stats":
            return .deferred(bus.stats(on: socket.eventLoop).map { EventOutcome.success(fields: [JSONMember("stats", $0)]) })
        case "occupancy":
            // Summed over every instance, like stats; `symbol` narrows it to one.
            let symbol = payload?["symbol"]?.stringValue
            if payload?["symbol"] != nil, symbol == nil {
                return .failure(ClientError(.invalidPayload, #"Send {"command":"occupancy"} or {"command":"occupancy","symbol":"BTC/USDT"}."#))
            }
            return .deferred(bus.occupancy(symbol: symbol, on: socket.eventLoop).map { merged in
                EventOutcome.success(fields: [JSONMember("occupancy", merged["symbols"] ?? .object([])), JSONMember("instances", merged["instances"] ?? .int(1))])
            })
        default:
            return .failure(ClientError(.invalidPayload, "'command' must be kick, maintenance, stats or occupancy."))
        }
    }
}
