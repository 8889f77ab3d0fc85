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
        .init(path: "limits.slowConsumerBytes", environment: nil, defaultValue: "4194304"),
        .init(path: "logging.level", environment: "LOG_LEVEL", defaultValue: "info"),
        .init(path: "logging.format", environment: "LOG_FORMAT", defaultValue: "text"),
    ]

    static let byPath: [String: ConfigurationKey] = Dictionary(uniqueKeysWithValues: all.map { ($0.path, $0) })
}
