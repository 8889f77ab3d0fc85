import NIOCore

/// Engine.IO settings shared by every session (SPEC §1). Defaults are the SPEC's.
public struct EngineConfiguration: Sendable {
    /// The server pings every `pingInterval`…
    public var pingInterval: TimeAmount
    /// …and closes a session whose pong has not arrived `pingTimeout` later.
    public var pingTimeout: TimeAmount
    /// Largest WebSocket message and polling POST body, in bytes.
    public var maxPayload: Int
    /// A probing WebSocket must send `5` within this time or it is closed.
    public var upgradeTimeout: TimeAmount
    /// A session that joins no namespace within this time is closed.
    public var connectTimeout: TimeAmount
    /// A socket whose unsent data passes this many bytes is closed as a slow consumer.
    public var slowConsumerBytes: Int
    /// Packets per polling GET response (python-engineio refuses more than 16).
    public var maxPacketsPerPoll: Int
    /// Enabled transports.
    public var allowPolling: Bool
    public var allowWebSocket: Bool
    /// Origins allowed to open a WebSocket and to read polling responses; nil allows any.
    public var allowedOrigins: [String]?
    /// The kernel send buffer of each client socket (SO_SNDBUF); 0 leaves the OS default,
    /// which autotunes up to megabytes. Smaller means less stale data queued below the
    /// gateway, where it can no longer be conflated.
    public var socketSendBuffer: Int = 0
    /// A new HTTP connection must deliver a complete request head within this time, or it is
    /// closed (slowloris: headers trickled in, or nothing sent at all).
    public var requestHeaderTimeout: TimeAmount = .seconds(10)
    /// A kept-alive HTTP connection with no request in progress is closed after this long
    /// without the next complete request head.
    public var idleTimeout: TimeAmount = .seconds(30)
    /// Proxies (their addresses) whose `X-Forwarded-For` names the client: per-address limits
    /// and logs then see the client, not the proxy. Empty: the header is ignored.
    public var trustedProxies: Set<String> = []
    /// Sessions and handshake rates per instance and per address (docs/security.md).
    public var admission = EngineAdmission.Limits()
    /// A request head (request line and headers) larger than this is answered 431 and closed.
    public var maxRequestHeadBytes = 16 * 1024
    /// A request target (path and query) longer than this is answered 414 and closed.
    public var maxRequestTargetBytes = 4 * 1024
    /// HTTP connections (polling, the API) served at once by the listener, and from one client
    /// address; past either a new one is closed at once. As large as the session bounds: a
    /// WebSocket upgraded on a kept-alive HTTP connection (aiohttp-based clients) keeps that
    /// connection's slot for its life, so these must never bind before the session bounds do.
    public var maxHTTPConnections = 100_000
    public var maxHTTPConnectionsPerAddress = 1_000
    /// A connection whose namespace CONNECTs are refused this many times is closed.
    public var maxFailedConnects = 3
    /// Refused CONNECTs one client address may cause per minute; past that its CONNECTs are
    /// refused without checking their token (0: no limit).
    public var failedConnectsPerAddressPerMinute = 60

    public init(
        pingInterval: TimeAmount = .milliseconds(25_000),
        pingTimeout: TimeAmount = .milliseconds(20_000),
        maxPayload: Int = 1_000_000,
        upgradeTimeout: TimeAmount = .seconds(10),
        connectTimeout: TimeAmount = .seconds(45),
        slowConsumerBytes: Int = 4 * 1024 * 1024,
        maxPacketsPerPoll: Int = 16,
        allowPolling: Bool = true,
        allowWebSocket: Bool = true,
        allowedOrigins: [String]? = nil
    ) {
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.maxPayload = maxPayload
        self.upgradeTimeout = upgradeTimeout
        self.connectTimeout = connectTimeout
        self.slowConsumerBytes = slowConsumerBytes
        self.maxPacketsPerPoll = maxPacketsPerPoll
        self.allowPolling = allowPolling
        self.allowWebSocket = allowWebSocket
        self.allowedOrigins = allowedOrigins
    }

    /// True when a request from `origin` may use the gateway (no Origin header: not a browser).
    public func allows(origin: String?) -> Bool {
        guard let allowedOrigins, let origin else { return true }
        return allowedOrigins.contains(origin)
    }
}
