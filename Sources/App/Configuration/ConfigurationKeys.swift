import Namespaces

/// Every configuration key: its YAML path, the environment variable that overrides it, and its
/// default. config/gateway.yaml mirrors this list; `gateway check-config` validates against it.
struct ConfigurationKey: Sendable {
    let path: String
    let environment: String?
    let defaultValue: String

    static let all: [ConfigurationKey] = [
        .init(path: "server.host", environment: "WS_HOST", defaultValue: "0.0.0.0"),
        .init(path: "server.port", environment: "WS_PORT", defaultValue: "3000"),
        .init(path: "server.path", environment: nil, defaultValue: "/socket.io/"),
        .init(path: "server.corsOrigin", environment: "WS_CORS_ORIGIN", defaultValue: "*"),
        .init(path: "server.pingInterval", environment: "WS_PING_INTERVAL", defaultValue: "25000"),
        .init(path: "server.pingTimeout", environment: "WS_PING_TIMEOUT", defaultValue: "20000"),
        .init(path: "server.maxPayload", environment: "WS_MAX_PAYLOAD", defaultValue: "1000000"),
        .init(path: "server.connectTimeout", environment: nil, defaultValue: "45000"),
        .init(path: "server.upgradeTimeout", environment: nil, defaultValue: "10000"),
        .init(path: "server.drainSeconds", environment: nil, defaultValue: "10"),
        .init(path: "server.eventLoopThreads", environment: nil, defaultValue: "0"),
        .init(path: "server.flushInterval", environment: nil, defaultValue: "0"),
        .init(path: "server.socketSendBuffer", environment: nil, defaultValue: "0"),
        .init(path: "server.requestHeaderTimeout", environment: nil, defaultValue: "10000"),
        .init(path: "server.idleTimeout", environment: nil, defaultValue: "30000"),
        .init(path: "limits.slowConsumerBytes", environment: nil, defaultValue: "4194304"),
        .init(path: "limits.maxSymbolsPerConnection", environment: "WS_MAX_SYMBOLS_PER_CONNECTION", defaultValue: "100"),
        .init(path: "limits.maxChannelsPerUser", environment: "WS_MAX_CHANNELS_PER_USER", defaultValue: "50"),
        .init(path: "limits.maxRoomsPerNamespace", environment: nil, defaultValue: "20"),
        .init(path: "limits.maxConnectionsPerUser", environment: "WS_MAX_CONNECTIONS_PER_USER", defaultValue: "5"),
        .init(path: "limits.maxConnectionsPerIp", environment: nil, defaultValue: "1000"),
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
        .init(path: "jwt.issuer", environment: "JWT_ISSUER", defaultValue: ""),
        .init(path: "jwt.audience", environment: "JWT_AUDIENCE", defaultValue: ""),
        .init(path: "jwt.leewaySeconds", environment: nil, defaultValue: "5"),
        .init(path: "jwt.expiryWarningSeconds", environment: nil, defaultValue: "30"),
        .init(path: "feed.symbols", environment: nil, defaultValue: "BTC/USDT,ETH/USDT,SOL/USDT,XRP/USDT,DOGE/USDT"),
        .init(path: "feed.source", environment: "FEED_SOURCE", defaultValue: "simulator"),
        .init(path: "feed.throttleMs.prices", environment: nil, defaultValue: "0"),
        .init(path: "feed.throttleMs.depth", environment: nil, defaultValue: "100"),
        .init(path: "feed.throttleMs.stats", environment: nil, defaultValue: "1000"),
        .init(path: "feed.throttleMs.ticker", environment: nil, defaultValue: "1000"),
        .init(path: "feed.stallAlertSeconds", environment: nil, defaultValue: "10"),
        .init(path: "feed.simulator.ticksPerSecond", environment: nil, defaultValue: "20"),
        .init(path: "feed.simulator.seed", environment: nil, defaultValue: "0"),
        .init(path: "feed.replay.file", environment: nil, defaultValue: "config/samples/market.jsonl"),
        .init(path: "feed.replay.speed", environment: nil, defaultValue: "1"),
        .init(path: "feed.replay.loop", environment: nil, defaultValue: "false"),
        .init(path: "recovery.maxDisconnectionMs", environment: nil, defaultValue: "120000"),
        .init(path: "recovery.maxEventsPerUser", environment: nil, defaultValue: "1000"),
        .init(path: "recovery.maxBytes", environment: nil, defaultValue: "67108864"),
        .init(path: "redis.url", environment: "REDIS_URL", defaultValue: ""),
        .init(path: "redis.prefix", environment: "REDIS_PREFIX", defaultValue: "ws:"),
        .init(path: "tiers.premiumChannels", environment: nil, defaultValue: ""),
        .init(path: "logging.level", environment: "LOG_LEVEL", defaultValue: "info"),
        .init(path: "logging.format", environment: "LOG_FORMAT", defaultValue: "text"),
    ]

    static let byPath: [String: ConfigurationKey] = Dictionary(uniqueKeysWithValues: all.map { ($0.path, $0) })
}
