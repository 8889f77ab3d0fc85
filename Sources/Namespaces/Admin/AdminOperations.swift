import GatewayJSON
import Foundation
import GatewayCore
import GatewayMetrics
import NIOCore

/// What operators can do, shared by `/admin` events, the HTTP API and the stats service:
/// system broadcasts, kicks, maintenance mode and stats.
public struct AdminOperations: Sendable {
    public static let namespaces = GatewayNamespaces.paths
    public static let levels = ["info", "warning", "critical"]

    let services: GatewayServices

    public init(services: GatewayServices) {
        self.services = services
    }

    /// A parsed `admin.broadcast` / `POST /api/v1/broadcast` body.
    public struct Broadcast: Sendable {
        public let message: String
        public let level: String
        public let namespaces: [NamespacePath]

        public init(message: String, level: String, namespaces: [NamespacePath]) {
            self.message = message
            self.level = level
            self.namespaces = namespaces
        }

        /// The body `parse` reads (what crosses the cluster bus).
        public var json: JSONValue {
            .object([
                "message": .string(message), "level": .string(level), "namespaces": .array(namespaces.map { .string($0.value) }),
            ])
        }

        public static func parse(_ payload: JSONValue?) -> Result<Broadcast, ClientError> {
            let example = #"{"message":"…","level":"info|warning|critical","namespaces":["/prices"]}"#
            guard let payload, payload.isObject, let message = payload["message"]?.stringValue, !message.isEmpty else {
                return .failure(ClientError(.invalidPayload, "Send \(example) with a non-empty message."))
            }
            guard message.utf8.count <= 2000 else {
                return .failure(ClientError(.invalidPayload, "The message is longer than 2000 bytes."))
            }
            // Absent or null: info. Anything else must be one of the levels (false is not info).
            let requestedLevel = payload["level"].flatMap { $0 == .null ? nil : $0 }
            let level = requestedLevel.map { $0.stringValue ?? "" } ?? "info"
            guard AdminOperations.levels.contains(level) else {
                return .failure(ClientError(.invalidPayload, "'level' must be info, warning or critical."))
            }
            var namespaces = AdminOperations.namespaces
            if let requested = payload["namespaces"] {
                // Every entry a string: none is dropped silently.
                guard let items = requested.arrayValue, !items.isEmpty, items.allSatisfy({ $0.stringValue != nil }) else {
                    return .failure(ClientError(.invalidPayload, "'namespaces' must be a non-empty list of namespace names."))
                }
                let list = items.compactMap(\.stringValue)
                if let unknown = list.first(where: { !AdminOperations.namespaces.contains(NamespacePath($0)) }) {
                    return .failure(ClientError(.invalidPayload, "Unknown namespace '\(unknown)'."))
                }
                namespaces = list.map { NamespacePath($0) }
            }
            return .success(Broadcast(message: message, level: level, namespaces: namespaces))
        }
    }

    /// `system.broadcast {level, message, ts}` to every socket of the chosen namespaces.
    public func broadcast(_ broadcast: Broadcast) {
        let payload = JSONSerializer.serialize(
            .object(["level": .string(broadcast.level), "message": .string(broadcast.message), "ts": .number(String(WallClock.milliseconds()))])
        )
        for namespace in broadcast.namespaces {
            services.publisher.emit(to: .everyone(in: namespace), event: "system.broadcast", payloadJSON: payload)
        }
        services.logger.info("System broadcast", metadata: ["broadcast.level": "\(broadcast.level)", "broadcast.namespaces": "\(broadcast.namespaces)"])
    }

    public enum KickTarget: Sendable, Equatable {
        case user(String)
        case socket(String)

        /// `{"userId":…}` or `{"sid":…}`, as the kick command names it.
        public var json: JSONValue {
            switch self {
            case .user(let userId): .object(["userId": .string(userId)])
            case .socket(let sid): .object(["sid": .string(sid)])
            }
        }

        public init?(_ json: JSONValue?) {
            if let userId = json?["userId"]?.stringValue {
                self = .user(userId)
            } else if let sid = json?["sid"]?.stringValue {
                self = .socket(sid)
            } else {
                return nil
            }
        }
    }

    /// Closes the connections of a user (every namespace) or of one socket id; the future holds
    /// how many connections were closed.
    public func kick(_ target: KickTarget, on eventLoop: any EventLoop) -> EventLoopFuture<Int> {
        let counts = services.broadcaster.loops.all.map { context in
            context.eventLoop.submit {
                var closed = Set<ObjectIdentifier>()
                for namespace in AdminOperations.namespaces {
                    for socket in context.sockets(in: .everyone(in: namespace)) where !closed.contains(ObjectIdentifier(socket.session)) {
                        let matches: Bool
                        switch target {
                        case .user(let userId): matches = socket.owner == userId
                        case .socket(let id): matches = socket.id == id
                        }
                        if matches {
                            closed.insert(ObjectIdentifier(socket.session))
                            socket.session.close(reason: .kicked)
                        }
                    }
                }
                return closed.count
            }
        }
        return EventLoopFuture.reduce(0, counts, on: eventLoop, +)
    }

    /// Turns maintenance on or off and tells every connected socket.
    public func setMaintenance(enabled: Bool, message: String?) {
        let text = message ?? (enabled ? "The gateway is in maintenance; please try again later." : "Maintenance is over.")
        services.maintenance.set(enabled: enabled, message: text)
        broadcast(Broadcast(message: text, level: enabled ? "warning" : "info", namespaces: AdminOperations.namespaces))
        let status = enabled ? "maintenance" : "trading"
        let ts = String(WallClock.milliseconds())
        // One status per symbol, sent as one batch; a socket that falls behind keeps only the
        // newest per symbol (thousands of learned symbols must not bury a slow socket).
        let statuses = services.symbols.known.map { symbol in
            let payload = JSONSerializer.serialize(.object(["symbol": .string(symbol), "status": .string(status), "ts": .number(ts)]))
            let message = OutboundMessage.event(namespace: MarketBehavior.path, name: "market.status", payloadJSON: payload, conflation: .marketStatus(symbol))
            return Publication(message, to: .everyone(in: MarketBehavior.path))
        }
        services.publisher.publish(statuses)
        services.logger.notice("Maintenance mode changed", metadata: ["maintenance.enabled": "\(enabled)"])
    }

    /// `admin.alert {level, message, ts}` to every admin socket, and a log line.
    public func alert(level: String, message: String) {
        services.logger.warning("Admin alert", metadata: ["alert.level": "\(level)", "alert.message": "\(message)"])
        services.publisher.emit(
            to: .admins, event: "admin.alert",
            arguments: [.object(["level": .string(level), "message": .string(message), "ts": .number(String(WallClock.milliseconds()))])]
        )
    }

    /// Stale symbols listed in `admin.stats` at most.
    static let maximumStaleListed = 100

    /// Connections by namespace, unique users, traffic, limits hit, Redis state, stale symbols.
    /// Symbols listed in `occupancy` per instance: the most watched ones.
    public static let maximumOccupancyListed = 100

    /// This instance's subscribers per symbol and channel: the most watched, or one symbol.
    public func occupancy(symbol: String?) -> JSONValue {
        .object(["symbols": services.occupancy.snapshot(limit: Self.maximumOccupancyListed, symbol: symbol)])
    }

    public func stats() -> JSONValue {
        let totals = services.metrics.totals
        let rates = services.trafficRates.current
        let now = WallClock.milliseconds()
        let stale = services.freshness.all(limit: Self.maximumStaleListed)
        let staleSymbols = stale.symbols.map { symbol in
            JSONValue.object([
                "symbol": .string(symbol.symbol), "silentMs": .int(symbol.silentMs(now: now)), "lastSourceTs": symbol.lastSourceTs,
            ])
        }
        return .object([
            "connections": .object(AdminOperations.namespaces.map { JSONMember($0.value, .int(services.connections.count($0.value))) }),
            "engineConnections": .int(services.metrics.totals.engineSessions.load(ordering: .relaxed)),
            "uniqueUsers": .int(services.uniqueUsers),
            "messagesInPerSecond": .double(rates.inPerSecond),
            "messagesOutPerSecond": .double(rates.outPerSecond),
            "messagesIn": .int(totals.received.load(ordering: .relaxed)),
            "messagesOut": .int(totals.sent.load(ordering: .relaxed)),
            "rateLimited": .int(totals.rateLimited.load(ordering: .relaxed)),
            "slowConsumers": .int(totals.slowConsumers.load(ordering: .relaxed)),
            "maintenance": .bool(services.maintenance.isEnabled),
            "redis": .string(services.redisHealth.current.rawValue),
            "market": .object(["staleSymbols": .array(staleSymbols), "staleCount": .int(stale.count)]),
            "occupancy": occupancy(symbol: nil),
            "uptimeSeconds": .int(Int(Date().timeIntervalSince(services.startedAt))),
            "ts": .number(String(WallClock.milliseconds())),
        ])
    }
}
