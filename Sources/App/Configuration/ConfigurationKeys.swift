import GatewayCore
import Namespaces
import NIOCore
import RedisBridge

/// Every configuration key: its YAML path, the environment variable that overrides it, and its
/// default. Defaults that a component type has (engine, limits, throttles, recovery, rate
/// limits per namespace) are read from that type, so each lives in one place.
/// config/gateway.yaml mirrors this list; `gateway check-config` validates against it.
struct ConfigurationKey: Sendable {
    let path: String
    let environment: String?
    let defaultValue: String

    private static let engine = EngineConfiguration()
    private static let limits = NamespaceSettings()
    private static let compression = CompressionSettings()
    private static func ms(_ time: TimeAmount) -> String { "\(time.nanoseconds / 1_000_000)" }

    static let all: [ConfigurationKey] = [
        .init(path: "server.host", environment: "WS_HOST", defaultValue: "0.0.0.0"),
        .init(path: "server.port", environment: "WS_PORT", defaultValue: "3000"),
        .init(path: "server.path", environment: nil, defaultValue: "/socket.io/"),
        .init(path: "server.msgpackPath", environment: "WS_MSGPACK_PATH", defaultValue: "/socket.io-msgpack/"),
        .init(path: "server.corsOrigin", environment: "WS_CORS_ORIGIN", defaultValue: "*"),
        .init(path: "server.pingInterval", environment: "WS_PING_INTERVAL", defaultValue: ms(engine.pingInterval)),
        .init(path: "server.pingTimeout", environment: "WS_PING_TIMEOUT", defaultValue: ms(engine.pingTimeout)),
        .init(path: "server.maxPayload", environment: "WS_MAX_PAYLOAD", defaultValue: "\(engine.maxPayload)"),
        .init(path: "server.connectTimeout", environment: nil, defaultValue: ms(engine.connectTimeout)),
        .init(path: "server.upgradeTimeout", environment: nil, defaultValue: ms(engine.upgradeTimeout)),
        .init(path: "server.drainSeconds", environment: nil, defaultValue: "10"),
        .init(path: "server.eventLoopThreads", environment: nil, defaultValue: "0"),
        .init(path: "server.flushInterval", environment: nil, defaultValue: "0"),
        .init(path: "server.socketSendBuffer", environment: nil, defaultValue: "\(engine.socketSendBuffer)"),
        .init(path: "server.requestHeaderTimeout", environment: nil, defaultValue: ms(engine.requestHeaderTimeout)),
        .init(path: "server.idleTimeout", environment: nil, defaultValue: ms(engine.idleTimeout)),
        .init(path: "server.listenBacklog", environment: nil, defaultValue: "4096"),
        .init(path: "server.trustedProxies", environment: nil, defaultValue: ""),
        .init(path: "server.maxRequestHeadBytes", environment: nil, defaultValue: "\(engine.maxRequestHeadBytes)"),
        .init(path: "server.maxRequestTargetBytes", environment: nil, defaultValue: "\(engine.maxRequestTargetBytes)"),
        .init(path: "server.maxHttpConnections", environment: nil, defaultValue: "\(engine.maxHTTPConnections)"),
        .init(path: "server.dashboard.enabled", environment: "DASHBOARD_ENABLED", defaultValue: "true"),
        .init(path: "server.dashboard.directory", environment: "DASHBOARD_DIR", defaultValue: ""),
        .init(path: "server.internalPort", environment: "INTERNAL_PORT", defaultValue: "0"),
        .init(path: "server.compression.webSocket", environment: "COMPRESSION_WEBSOCKET", defaultValue: "\(compression.webSocket)"),
        .init(path: "server.compression.polling", environment: "COMPRESSION_POLLING", defaultValue: "\(compression.polling)"),
        .init(path: "server.compression.threshold", environment: "COMPRESSION_THRESHOLD", defaultValue: "\(compression.threshold)"),
        .init(path: "server.compression.level", environment: nil, defaultValue: "\(compression.level)"),
        .init(path: "server.internalHost", environment: "INTERNAL_HOST", defaultValue: "127.0.0.1"),
        .init(path: "server.tls.certificateFile", environment: "TLS_CERT_FILE", defaultValue: ""),
        .init(path: "server.tls.keyFile", environment: "TLS_KEY_FILE", defaultValue: ""),
        .init(path: "server.tls.plainPort", environment: "TLS_PLAIN_PORT", defaultValue: "0"),
        .init(path: "server.tls.plainHost", environment: nil, defaultValue: ""),
        .init(path: "server.tls.reloadCheckMs", environment: "TLS_RELOAD_CHECK_MS", defaultValue: "2000"),
        .init(path: "limits.slowConsumerBytes", environment: nil, defaultValue: "\(engine.slowConsumerBytes)"),
        .init(path: "limits.maxSymbolsPerConnection", environment: "WS_MAX_SYMBOLS_PER_CONNECTION", defaultValue: "\(limits.maxSymbolsPerConnection)"),
        .init(path: "limits.maxChannelsPerUser", environment: "WS_MAX_CHANNELS_PER_USER", defaultValue: "\(limits.maxChannelsPerUser)"),
        .init(path: "limits.maxRoomsPerNamespace", environment: nil, defaultValue: "\(limits.maxRoomsPerNamespace)"),
        .init(path: "limits.maxConnectionsPerUser", environment: "WS_MAX_CONNECTIONS_PER_USER", defaultValue: "\(limits.maxConnectionsPerUser)"),
        .init(path: "limits.maxConnectionsPerIp", environment: nil, defaultValue: "\(limits.maxConnectionsPerIp)"),
        .init(path: "limits.maxSessions", environment: nil, defaultValue: "\(engine.admission.maxSessions)"),
        .init(path: "limits.maxSessionsPerIp", environment: nil, defaultValue: "\(engine.admission.maxSessionsPerAddress)"),
        .init(path: "limits.handshakesPerSecond", environment: nil, defaultValue: "\(engine.admission.handshakesPerSecond)"),
        .init(path: "limits.handshakesPerSecondPerIp", environment: nil, defaultValue: "\(engine.admission.handshakesPerSecondPerAddress)"),
        .init(path: "limits.maxFailedConnects", environment: nil, defaultValue: "\(engine.maxFailedConnects)"),
        .init(path: "limits.maxHttpConnectionsPerIp", environment: nil, defaultValue: "\(engine.maxHTTPConnectionsPerAddress)"),
        .init(path: "limits.failedConnectsPerIpPerMinute", environment: nil, defaultValue: "\(engine.failedConnectsPerAddressPerMinute)"),
        .init(path: "rateLimits.points", environment: "WS_RATE_LIMIT_POINTS", defaultValue: ""),
        .init(path: "rateLimits.duration", environment: "WS_RATE_LIMIT_DURATION", defaultValue: ""),
        .init(path: "rateLimits.blockDuration", environment: "WS_RATE_LIMIT_BLOCK", defaultValue: "60"),
    ] + GatewayNamespaces.all.flatMap { namespace in
        [
            ConfigurationKey(path: "rateLimits.\(namespace.configurationKey).points", environment: nil, defaultValue: "\(namespace.defaultRateLimit.points)"),
            ConfigurationKey(path: "rateLimits.\(namespace.configurationKey).duration", environment: nil, defaultValue: "\(Int(namespace.defaultRateLimit.duration))"),
        ]
    } + [
        .init(path: "jwt.secret", environment: "JWT_SECRET", defaultValue: ""),
        .init(path: "jwt.publicKeyFile", environment: "JWT_PUBLIC_KEY_FILE", defaultValue: ""),
        .init(path: "jwt.previousSecret", environment: "JWT_PREVIOUS_SECRET", defaultValue: ""),
        .init(path: "jwt.previousSecretValidUntil", environment: "JWT_PREVIOUS_SECRET_VALID_UNTIL", defaultValue: ""),
        .init(path: "jwt.keysFile", environment: "JWT_KEYS_FILE", defaultValue: ""),
        .init(path: "jwt.jwksUrl", environment: "JWT_JWKS_URL", defaultValue: ""),
        .init(path: "jwt.jwksCaFile", environment: "JWT_JWKS_CA_FILE", defaultValue: ""),
        .init(path: "jwt.jwksRefreshSeconds", environment: nil, defaultValue: "300"),
        .init(path: "jwt.jwksMinRefreshSeconds", environment: nil, defaultValue: "30"),
        .init(path: "jwt.jwksMaxAgeSeconds", environment: nil, defaultValue: "3600"),
        .init(path: "jwt.jwksTimeoutSeconds", environment: nil, defaultValue: "5"),
        .init(path: "jwt.issuer", environment: "JWT_ISSUER", defaultValue: ""),
        .init(path: "presence.webhookUrl", environment: "PRESENCE_WEBHOOK_URL", defaultValue: ""),
        .init(path: "presence.webhookSecret", environment: "PRESENCE_WEBHOOK_SECRET", defaultValue: ""),
        .init(path: "presence.webhookCaFile", environment: "PRESENCE_WEBHOOK_CA_FILE", defaultValue: ""),
        .init(path: "presence.webhookTimeoutSeconds", environment: nil, defaultValue: "5"),
        .init(path: "presence.graceMs", environment: "PRESENCE_GRACE_MS", defaultValue: "10000"),
        .init(path: "presence.maxPendingNotices", environment: nil, defaultValue: "10000"),
        .init(path: "jwt.audience", environment: "JWT_AUDIENCE", defaultValue: ""),
        .init(path: "jwt.leewaySeconds", environment: nil, defaultValue: "5"),
        .init(path: "jwt.expiryWarningSeconds", environment: nil, defaultValue: "\(Int(limits.expiryWarningSeconds))"),
        .init(path: "feed.symbols", environment: nil, defaultValue: limits.symbols.joined(separator: ",")),
        .init(path: "feed.maxSymbols", environment: nil, defaultValue: "10000"),
        .init(path: "feed.learnedSymbolIdleSeconds", environment: nil, defaultValue: "3600"),
        .init(path: "feed.maxBookLevels", environment: nil, defaultValue: "\(MarketState.defaultMaxBookLevels)"),
        .init(path: "feed.source", environment: "FEED_SOURCE", defaultValue: "simulator"),
        .init(path: "feed.throttleMs.prices", environment: nil, defaultValue: "\(limits.throttles.pricesMs)"),
        .init(path: "feed.throttleMs.depth", environment: nil, defaultValue: "\(limits.throttles.depthMs)"),
        .init(path: "feed.throttleMs.stats", environment: nil, defaultValue: "\(limits.throttles.statsMs)"),
        .init(path: "feed.throttleMs.ticker", environment: nil, defaultValue: "\(limits.throttles.tickerMs)"),
        .init(path: "feed.stallAlertSeconds", environment: nil, defaultValue: "10"),
        .init(path: "feed.staleAfterMs", environment: "FEED_STALE_AFTER_MS", defaultValue: "\(FeedFreshness.defaultStaleAfterMs)"),
        .init(path: "feed.staleAfterMs.default", environment: nil, defaultValue: ""),
        .init(path: "feed.staleAfterMs.simulator", environment: nil, defaultValue: ""),
        .init(path: "feed.staleAfterMs.redis", environment: nil, defaultValue: ""),
        .init(path: "feed.staleAfterMs.replay", environment: nil, defaultValue: ""),
        .init(path: "feed.staleAfterMs.http", environment: nil, defaultValue: ""),
        .init(path: "feed.simulator.ticksPerSecond", environment: nil, defaultValue: "20"),
        .init(path: "feed.simulator.seed", environment: nil, defaultValue: "0"),
        .init(path: "feed.replay.file", environment: nil, defaultValue: "config/samples/market.jsonl"),
        .init(path: "feed.replay.speed", environment: nil, defaultValue: "1"),
        .init(path: "feed.replay.loop", environment: nil, defaultValue: "false"),
        .init(path: "idempotency.windowSeconds", environment: nil, defaultValue: "86400"),
        .init(path: "idempotency.maxKeys", environment: nil, defaultValue: "100000"),
        .init(path: "recovery.maxDisconnectionMs", environment: nil, defaultValue: "\(Int(limits.recovery.window * 1000))"),
        .init(path: "recovery.maxEventsPerUser", environment: nil, defaultValue: "\(limits.recovery.maxEventsPerUser)"),
        .init(path: "recovery.maxBytes", environment: nil, defaultValue: "\(limits.recovery.maxBytes)"),
        .init(path: "recovery.maxSessionsPerUser", environment: nil, defaultValue: "\(limits.recovery.maxSessionsPerUser)"),
        .init(path: "redis.url", environment: "REDIS_URL", defaultValue: ""),
        .init(path: "redis.prefix", environment: "REDIS_PREFIX", defaultValue: "ws:"),
        .init(path: "redis.connectionLeaseMs", environment: nil, defaultValue: "30000"),
        .init(path: "redis.rateLimitDeadlineMs", environment: nil, defaultValue: "250"),
        .init(path: "redis.maxPendingCommands", environment: nil, defaultValue: "\(RedisConnection.defaultMaximumPending)"),
        .init(path: "redis.tls.caFile", environment: "REDIS_TLS_CA_FILE", defaultValue: ""),
        .init(path: "redis.tls.certificateFile", environment: "REDIS_TLS_CERT_FILE", defaultValue: ""),
        .init(path: "redis.tls.keyFile", environment: "REDIS_TLS_KEY_FILE", defaultValue: ""),
        .init(path: "tiers.premiumChannels", environment: nil, defaultValue: ""),
        .init(path: "logging.level", environment: "LOG_LEVEL", defaultValue: "info"),
        .init(path: "logging.format", environment: "LOG_FORMAT", defaultValue: "text"),
    ]

    static let byPath: [String: ConfigurationKey] = Dictionary(uniqueKeysWithValues: all.map { ($0.path, $0) })
}
