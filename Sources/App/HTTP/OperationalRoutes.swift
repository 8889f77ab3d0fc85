import GatewayJSON
import Foundation
import GatewayCore
import GatewayMetrics
import GatewayServer
import Hummingbird
import JWTAuth
import MarketFeed
import Namespaces
import NIOCore

/// `/metrics`, the health checks, the limits in force and the admin broadcast API.
enum OperationalRoutes {
    /// `/metrics` and the health checks: what probes and Prometheus read (also served on the
    /// plain port next to a TLS listener).
    static func registerProbes(on router: Router<GatewayRequestContext>, services: GatewayServices, engine: EngineServer, jwks: JWKSRefresher?) {
        let metrics = services.metrics
        router.get("metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition()))
            )
        }
        router.get("health") { _, _ in
            let accepting = engine.isAccepting
            let keys = jwks?.status()
            let healthy = accepting && !services.maintenance.isEnabled && services.redisHealth.current != .down && (keys == nil || keys?.condition == .ok)
            var members: [JSONMember] = [JSONMember("status", .string(healthy ? "ok" : "degraded")), JSONMember("uptime", .int(uptime(services)))]
            if let keys { members.append(JSONMember("jwks", jwksHealth(keys))) }
            return json(.object(members))
        }
        router.get("health/websocket") { _, _ in
            json(.object([
                "status": .string(engine.isAccepting ? "ok" : "degraded"),
                "activeConnections": .int(engine.sessionCount),
                "uniqueUsers": .int(services.uniqueUsers),
                "uptime": .int(uptime(services)),
            ]))
        }
        router.get("health/redis") { _, _ in
            let state = services.redisHealth.current
            return json(.object(["status": .string(state.rawValue)]), status: state == .down ? .serviceUnavailable : .ok)
        }
    }

    static func register(
        on router: Router<GatewayRequestContext>, services: GatewayServices, engine: EngineServer, bus: any GatewayBus,
        configuration: GatewayConfiguration, jwks: JWKSRefresher?
    ) {
        registerProbes(on: router, services: services, engine: engine, jwks: jwks)
        router.get("api/v1/limits") { _, _ in
            json(limits(configuration, symbols: services.symbols))
        }
        router.post("api/v1/broadcast") { request, _ in
            try BearerAuthorization.require(request, services: services, roles: [.admin], forbidden: "Only admin tokens may broadcast.")
            let body = try await request.body.collect(upTo: 64 * 1024)
            guard let payload = try? JSONParser.parse(body.readableBytesView) else {
                throw APIError.badRequest("The body is not valid JSON.")
            }
            switch AdminOperations.Broadcast.parse(payload) {
            case .failure(let error):
                throw APIError.badRequest(error.message, code: error.code.rawValue)
            case .success(let broadcast):
                bus.broadcast(broadcast)
                return json(.object(["accepted": true, "namespaces": .array(broadcast.namespaces.map { .string($0.value) })]), status: .accepted)
            }
        }
    }

    /// `jwks` in `/health`: ok, stale (older than jwt.jwksMaxAgeSeconds) or missing (never read).
    static func jwksHealth(_ status: JWKSRefresher.Status) -> JSONValue {
        var members: [JSONMember] = [JSONMember("status", .string(status.condition.rawValue)), JSONMember("keys", .int(status.keys))]
        members.append(JSONMember("ageSeconds", status.ageSeconds.map { .int($0) } ?? .null))
        if let error = status.lastError { members.append(JSONMember("lastError", .string(error))) }
        return .object(members)
    }

    static func uptime(_ services: GatewayServices) -> Int { Int(Date().timeIntervalSince(services.startedAt)) }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: JSONSerializer.serialize(value))))
    }

    /// What clients need to adapt: payload size, rate limits, subscription caps, cadences, symbols.
    static func limits(_ configuration: GatewayConfiguration, symbols: SymbolCatalog) -> JSONValue {
        let settings = configuration.namespaces
        let rateLimits = AdminOperations.namespaces.map { namespace -> JSONMember in
            let policy = settings.rateLimits[namespace] ?? NamespaceSettings.defaultRateLimits[.root]!
            return JSONMember(namespace.value, .object([
                "points": .int(policy.points), "durationSeconds": .double(policy.duration), "blockSeconds": .double(policy.blockDuration),
            ]))
        }
        return .object([
            "namespaces": .array(AdminOperations.namespaces.map { .string($0.value) }),
            "maxPayload": .int(configuration.server.engine.maxPayload),
            "pingInterval": .int(Int(configuration.server.engine.pingInterval.nanoseconds / 1_000_000)),
            "pingTimeout": .int(Int(configuration.server.engine.pingTimeout.nanoseconds / 1_000_000)),
            "rateLimits": .object(rateLimits),
            "subscriptions": .object([
                "maxSymbolsPerConnection": .int(settings.maxSymbolsPerConnection),
                "maxChannelsPerUser": .int(settings.maxChannelsPerUser),
                "maxRoomsPerNamespace": .int(settings.maxRoomsPerNamespace),
                "maxConnectionsPerUser": .int(settings.maxConnectionsPerUser),
                "maxConnectionsPerIp": .int(settings.maxConnectionsPerIp),
            ]),
            "depthCadences": .array(NamespaceSettings.depthCadences.map { .string($0) }),
            "throttleMs": .object([
                "prices": .int(settings.throttles.pricesMs), "depth": .int(settings.throttles.depthMs),
                "stats": .int(settings.throttles.statsMs), "ticker": .int(settings.throttles.tickerMs),
            ]),
            "marketChannels": .array(NamespaceSettings.marketChannels.map { .string($0) }),
            "premiumChannels": .array(settings.premiumChannels.map(\.rawValue).sorted().map { .string($0) }),
            "symbols": .array(symbols.known.map { .string($0) }),
            "symbolsLearned": .bool(symbols.isLearning),
        ])
    }
}
