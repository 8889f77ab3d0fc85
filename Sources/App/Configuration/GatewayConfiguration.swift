import Foundation
import GatewayCore
import JWTAuth
import Logging
import MarketFeed
import Namespaces
import RedisBridge
import NIOCore

/// The gateway's whole configuration, typed and validated. Built from config/gateway.yaml and
/// the environment (SPEC §9); a bad value stops start-up with every problem listed.
struct GatewayConfiguration: Sendable {
    enum LogFormat: String, Sendable { case text, json }

    var host: String
    var port: Int
    var path: String
    var allowedOrigins: [String]?
    var pingIntervalMs: Int
    var pingTimeoutMs: Int
    var maxPayload: Int
    var connectTimeoutMs: Int
    var upgradeTimeoutMs: Int
    var drainSeconds: Int
    var eventLoopThreads: Int
    var flushIntervalMs: Int
    var slowConsumerBytes: Int
    var socketSendBuffer: Int
    var requestHeaderTimeoutMs: Int
    var idleTimeoutMs: Int
    var namespaces: NamespaceSettings
    /// nil: development mode (a random secret is generated at start-up).
    var jwtKey: JWTKey?
    var jwtSecret: String?
    var claimChecks: ClaimChecks
    var feedSource: FeedSourceKind
    /// nil: no Redis (single-node mode).
    var redisURL: String?
    var redisPrefix: String
    /// Seconds without market data before admins get a feed-stall alert (0: never).
    var feedStallAlertSeconds: Int
    var replayFile: String
    var replaySpeed: Double
    var replayLoop: Bool
    var simulatorTicksPerSecond: Int
    /// 0: a random seed per run.
    var simulatorSeed: UInt64
    var logLevel: Logger.Level
    var logFormat: LogFormat

    var engine: EngineConfiguration {
        var engine = EngineConfiguration(
            pingInterval: .milliseconds(Int64(pingIntervalMs)),
            pingTimeout: .milliseconds(Int64(pingTimeoutMs)),
            maxPayload: maxPayload,
            upgradeTimeout: .milliseconds(Int64(upgradeTimeoutMs)),
            connectTimeout: .milliseconds(Int64(connectTimeoutMs)),
            slowConsumerBytes: slowConsumerBytes,
            allowedOrigins: allowedOrigins
        )
        engine.socketSendBuffer = socketSendBuffer
        engine.requestHeaderTimeout = .milliseconds(Int64(requestHeaderTimeoutMs))
        engine.idleTimeout = .milliseconds(Int64(idleTimeoutMs))
        return engine
    }

    init(source: ConfigurationSource) throws(ConfigurationError) {
        var reader = Reader(source: source)
        host = reader.string("server.host")
        port = reader.int("server.port", in: 1...65535)
        path = reader.string("server.path")
        let cors = reader.list("server.corsOrigin")
        allowedOrigins = cors.contains("*") ? nil : cors
        pingIntervalMs = reader.int("server.pingInterval", in: 50...3_600_000)
        pingTimeoutMs = reader.int("server.pingTimeout", in: 50...3_600_000)
        maxPayload = reader.int("server.maxPayload", in: 1024...100_000_000)
        connectTimeoutMs = reader.int("server.connectTimeout", in: 100...3_600_000)
        upgradeTimeoutMs = reader.int("server.upgradeTimeout", in: 100...600_000)
        drainSeconds = reader.int("server.drainSeconds", in: 0...600)
        eventLoopThreads = reader.int("server.eventLoopThreads", in: 0...256)
        flushIntervalMs = reader.int("server.flushInterval", in: 0...1000)
        slowConsumerBytes = reader.int("limits.slowConsumerBytes", in: 65_536...1_073_741_824)
        socketSendBuffer = reader.int("server.socketSendBuffer", in: 0...67_108_864)
        requestHeaderTimeoutMs = reader.int("server.requestHeaderTimeout", in: 100...600_000)
        idleTimeoutMs = reader.int("server.idleTimeout", in: 100...3_600_000)
        var namespaces = NamespaceSettings(
            symbols: reader.list("feed.symbols"),
            maxSymbolsPerConnection: reader.int("limits.maxSymbolsPerConnection", in: 1...10_000),
            maxChannelsPerUser: reader.int("limits.maxChannelsPerUser", in: 1...100_000),
            maxRoomsPerNamespace: reader.int("limits.maxRoomsPerNamespace", in: 1...10_000),
            maxConnectionsPerUser: reader.int("limits.maxConnectionsPerUser", in: 1...10_000),
            maxConnectionsPerIp: reader.int("limits.maxConnectionsPerIp", in: 1...1_000_000),
            premiumChannels: Set(reader.list("tiers.premiumChannels")),
            expiryWarningSeconds: Double(reader.int("jwt.expiryWarningSeconds", in: 0...86_400)),
            recovery: RecoverySettings(
                window: Double(reader.int("recovery.maxDisconnectionMs", in: 0...86_400_000)) / 1000,
                maxEventsPerUser: reader.int("recovery.maxEventsPerUser", in: 1...1_000_000),
                maxBytes: reader.int("recovery.maxBytes", in: 1_048_576...17_179_869_184)
            )
        )
        let block = Double(reader.int("rateLimits.blockDuration", in: 0...86_400))
        let allPoints = reader.optionalInt("rateLimits.points", in: 1...1_000_000)
        let allDuration = reader.optionalInt("rateLimits.duration", in: 1...86_400)
        for namespace in GatewayNamespaces.all {
            let key = namespace.configurationKey
            namespaces.rateLimits[namespace.path] = TokenBucket.Policy(
                points: allPoints ?? reader.int("rateLimits.\(key).points", in: 1...1_000_000),
                duration: Double(allDuration ?? reader.int("rateLimits.\(key).duration", in: 1...86_400)),
                blockDuration: block
            )
        }
        let depthMs = reader.int("feed.throttleMs.depth", in: 0...1000)
        if FeedThrottles.depthCadence(milliseconds: depthMs) == nil {
            reader.problem("feed.throttleMs.depth", "expected 0 (raw), 100 or 1000: the default depth cadence")
        }
        namespaces.throttles = FeedThrottles(
            pricesMs: reader.int("feed.throttleMs.prices", in: 0...60_000),
            statsMs: reader.int("feed.throttleMs.stats", in: 0...60_000),
            tickerMs: reader.int("feed.throttleMs.ticker", in: 0...60_000),
            depthCadence: FeedThrottles.depthCadence(milliseconds: depthMs) ?? .fast
        )
        if namespaces.symbols.isEmpty { reader.problem("feed.symbols", "must list at least one symbol") }
        if let unknown = namespaces.premiumChannels.first(where: { !NamespaceSettings.marketChannels.contains($0) }) {
            reader.problem("tiers.premiumChannels", "'\(unknown)' is not a market channel (\(NamespaceSettings.marketChannels.joined(separator: ", ")))")
        }
        self.namespaces = namespaces
        feedSource = reader.choice("feed.source", FeedSourceKind.allCases.map(\.rawValue)).flatMap(FeedSourceKind.init(rawValue:)) ?? .simulator
        redisURL = reader.string("redis.url").nonEmpty
        redisPrefix = reader.string("redis.prefix")
        if let url = redisURL, RedisAddress(url: url) == nil {
            reader.problem("redis.url", "expected redis://[user:password@]host[:port][/db]")
        }
        if feedSource == .redis && redisURL == nil {
            reader.problem("feed.source", "'redis' needs redis.url (REDIS_URL)")
        }
        feedStallAlertSeconds = reader.int("feed.stallAlertSeconds", in: 0...86_400)
        replayFile = reader.string("feed.replay.file")
        replaySpeed = reader.positiveDouble("feed.replay.speed")
        replayLoop = reader.choice("feed.replay.loop", ["true", "false"]) == "true"
        simulatorTicksPerSecond = reader.int("feed.simulator.ticksPerSecond", in: 1...100_000)
        simulatorSeed = UInt64(reader.int("feed.simulator.seed", in: 0...Int.max))
        claimChecks = ClaimChecks(
            issuer: reader.string("jwt.issuer").nonEmpty,
            audience: reader.string("jwt.audience").nonEmpty,
            leewaySeconds: Double(reader.int("jwt.leewaySeconds", in: 0...3600))
        )
        jwtSecret = reader.string("jwt.secret").nonEmpty
        jwtKey = nil
        if let file = reader.string("jwt.publicKeyFile").nonEmpty {
            if jwtSecret != nil {
                reader.problem("jwt.publicKeyFile", "set either JWT_SECRET or JWT_PUBLIC_KEY_FILE, not both")
            } else if let pem = try? String(contentsOfFile: file, encoding: .utf8) {
                do {
                    jwtKey = try JWTKey.publicKey(pem: pem)
                } catch {
                    reader.problem("jwt.publicKeyFile", error.message)
                }
            } else {
                reader.problem("jwt.publicKeyFile", "cannot read the file")
            }
        } else if let secret = jwtSecret {
            if secret.utf8.count < 16 { reader.problem("jwt.secret", "must be at least 16 bytes") }
            jwtKey = .secret(secret)
        }
        logLevel = reader.choice("logging.level", Logger.Level.allCases.map(\.rawValue)).flatMap(Logger.Level.init(rawValue:)) ?? .info
        logFormat = reader.choice("logging.format", ["text", "json"]).flatMap(LogFormat.init(rawValue:)) ?? .text
        if !path.hasPrefix("/") { reader.problem("server.path", "must start with /") }
        if cors.isEmpty { reader.problem("server.corsOrigin", "must be * or a comma-separated list of origins") }
        let problems = source.problems + reader.problems
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
    }

    /// Typed access with one problem line per bad value.
    private struct Reader {
        let source: ConfigurationSource
        var problems: [String] = []

        func raw(_ path: String) -> String {
            source.values[path] ?? ConfigurationKey.byPath[path]!.defaultValue
        }

        mutating func problem(_ path: String, _ message: String) {
            let origin = source.origins[path].map { " (from \($0))" } ?? ""
            // Secrets are never echoed back.
            let shown = path == "jwt.secret" ? "<hidden>" : raw(path)
            problems.append("\(path) = '\(shown)'\(origin): \(message)")
        }

        mutating func string(_ path: String) -> String { raw(path) }

        mutating func int(_ path: String, in range: ClosedRange<Int>) -> Int {
            guard let value = Int(raw(path).trimmingCharacters(in: .whitespaces)), range.contains(value) else {
                problem(path, "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
                return Int(ConfigurationKey.byPath[path]!.defaultValue)!
            }
            return value
        }

        mutating func positiveDouble(_ path: String) -> Double {
            guard let value = Double(raw(path).trimmingCharacters(in: .whitespaces)), value > 0, value <= 10_000 else {
                problem(path, "expected a number above 0 and at most 10000")
                return 1
            }
            return value
        }

        mutating func optionalInt(_ path: String, in range: ClosedRange<Int>) -> Int? {
            let text = raw(path).trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty else { return nil }
            guard let value = Int(text), range.contains(value) else {
                problem(path, "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
                return nil
            }
            return value
        }

        mutating func list(_ path: String) -> [String] {
            raw(path).split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }

        mutating func choice(_ path: String, _ allowed: [String]) -> String? {
            let value = raw(path).lowercased()
            guard allowed.contains(value) else {
                problem(path, "expected one of \(allowed.joined(separator: ", "))")
                return nil
            }
            return value
        }
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
