import Foundation
import GatewayCore
import GatewayMetrics
import JWTAuth
import Logging
import MarketFeed
import NIOCore

/// What every namespace shares: token verification, limits and their counters, the rate-limit
/// store, the publisher (and the local loops behind it), metrics and the clock.
public final class GatewayServices: Sendable {
    public let settings: NamespaceSettings
    public let authenticator: JWTAuthenticator
    public let rateLimits: any RateLimitStore
    /// Where every publish goes (local today; a cluster bus wraps it).
    public let publisher: any Publisher
    /// This instance's event loops and room indexes, for operations on local sockets (kick, stats).
    public let broadcaster: Broadcaster
    public let metrics: GatewayMetrics
    public let logger: Logger
    /// Seconds since the epoch; injectable for tests.
    public let now: @Sendable () -> Double

    /// Live sockets per namespace (for stats and health).
    public let connections = ConnectionCounter(limit: .max)
    public let maintenance = MaintenanceMode()
    public let redisHealth = RedisHealth()
    public let trafficRates = TrafficRates()
    public let startedAt = Date()
    /// `/user` events and connection state recovery.
    public let userEvents: UserEventHub
    let userSockets: any ConnectionCountStore
    let ipSockets: any ConnectionCountStore
    /// Symbols with a subscriber here (cluster mode: the bus follows only those).
    public let symbolInterest = SymbolInterest()
    /// Heartbeat and depth-view rooms with members here (the market state serves only those).
    public let marketInterest = MarketInterest()
    /// Symbols stale now (`market.stale`), for subscribes and `admin.stats`.
    public let freshness = FreshnessBoard()
    /// Subscribers per symbol and channel on this instance.
    public let occupancy = Occupancy()
    /// The symbols clients may subscribe to: configured, or learned from the feed.
    public let symbols: SymbolCatalog
    /// Symbol-room subscriptions (`/prices`, `/market`) and their limits.
    let subscriptions: Subscriptions
    /// Producers' idempotency keys and event ids (docs/integration.md), and how long each holds.
    public let idempotency: any IdempotencyStore
    public let idempotencyWindow: TimeAmount
    /// `/user` arrivals and departures for presence notices (nil: `presence.webhookUrl` unset).
    public let presence: PresenceTracker?

    public init(
        settings: NamespaceSettings,
        authenticator: JWTAuthenticator,
        rateLimits: any RateLimitStore = LocalRateLimitStore(),
        userSockets: (any ConnectionCountStore)? = nil,
        ipSockets: (any ConnectionCountStore)? = nil,
        recoveryInterest: (any RecoveryInterest)? = nil,
        sharedRecovery: (any SharedRecovery)? = nil,
        broadcaster: Broadcaster,
        publisher: (any Publisher)? = nil,
        idempotency: (any IdempotencyStore)? = nil,
        idempotencyWindow: TimeAmount = .hours(24),
        presence: PresenceTracker? = nil,
        metrics: GatewayMetrics,
        logger: Logger,
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.settings = settings
        self.authenticator = authenticator
        self.rateLimits = rateLimits
        self.broadcaster = broadcaster
        self.publisher = publisher ?? broadcaster
        self.idempotency = idempotency ?? LocalIdempotencyStore()
        self.idempotencyWindow = idempotencyWindow
        self.presence = presence
        self.metrics = metrics
        self.logger = logger
        self.now = now
        self.userSockets = userSockets ?? ConnectionCounter(limit: settings.maxConnectionsPerUser)
        self.ipSockets = ipSockets ?? ConnectionCounter(limit: settings.maxConnectionsPerIp)
        symbols = settings.learnedSymbolsLimit.map { SymbolCatalog(learningUpTo: $0) } ?? SymbolCatalog(symbols: settings.symbols)
        subscriptions = Subscriptions(
            settings: settings, userQuota: QuotaCounter(limit: settings.maxChannelsPerUser), symbolInterest: symbolInterest, marketInterest: marketInterest, occupancy: occupancy, symbols: symbols,
            metrics: metrics
        )
        userEvents = UserEventHub(
            publisher: self.publisher, metrics: metrics, settings: settings.recovery, interest: recoveryInterest, shared: sharedRecovery, now: now
        )
    }

    /// Unique users with a live `/user` socket.
    public var uniqueUsers: Int { userSockets.activeKeys }
}
