import GatewayCore

/// What the namespaces enforce (SPEC §2–§4), one value for the whole gateway. Defaults are the
/// SPEC's; App fills it from config/gateway.yaml and the environment.
public struct NamespaceSettings: Sendable {
    /// Symbols clients may subscribe to (`feed.symbols`); empty when they are learned.
    public var symbols: [String]
    /// `feed.symbols: "*"`: symbols are learned from the feed, at most this many.
    public var learnedSymbolsLimit: Int?
    /// Distinct symbols per connection per namespace.
    public var maxSymbolsPerConnection: Int
    /// Rooms across all sockets of one user.
    public var maxChannelsPerUser: Int
    /// Channel × symbol rooms per `/market` connection.
    public var maxRoomsPerNamespace: Int
    /// `/user` sockets per user.
    public var maxConnectionsPerUser: Int
    /// Sockets per client IP per namespace.
    public var maxConnectionsPerIp: Int
    /// Token bucket per namespace name.
    public var rateLimits: [NamespacePath: TokenBucket.Policy]
    /// `/market` channels only premium-tier tokens may subscribe to.
    public var premiumChannels: Set<MarketChannel>
    /// `auth.expiring` goes out this long before a connected token expires.
    public var expiryWarningSeconds: Double
    /// Connection state recovery on `/user`.
    public var recovery: RecoverySettings
    /// Per-channel throttles of market data.
    public var throttles: FeedThrottles

    public static let marketChannels = MarketChannel.allCases.map(\.rawValue)
    public static let userChannels = ["orders", "positions", "wallet"]
    public static let depthCadences = ["raw", "100ms", "1000ms"]

    public init(
        symbols: [String] = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "DOGE/USDT"],
        maxSymbolsPerConnection: Int = 100,
        maxChannelsPerUser: Int = 50,
        maxRoomsPerNamespace: Int = 20,
        maxConnectionsPerUser: Int = 5,
        maxConnectionsPerIp: Int = 1000,
        rateLimits: [NamespacePath: TokenBucket.Policy] = NamespaceSettings.defaultRateLimits,
        premiumChannels: Set<MarketChannel> = [],
        expiryWarningSeconds: Double = 30,
        recovery: RecoverySettings = RecoverySettings(),
        throttles: FeedThrottles = FeedThrottles()
    ) {
        self.recovery = recovery
        self.throttles = throttles
        self.symbols = symbols
        self.maxSymbolsPerConnection = maxSymbolsPerConnection
        self.maxChannelsPerUser = maxChannelsPerUser
        self.maxRoomsPerNamespace = maxRoomsPerNamespace
        self.maxConnectionsPerUser = maxConnectionsPerUser
        self.maxConnectionsPerIp = maxConnectionsPerIp
        self.rateLimits = rateLimits
        self.premiumChannels = premiumChannels
        self.expiryWarningSeconds = expiryWarningSeconds
    }

    public static let defaultRateLimits: [NamespacePath: TokenBucket.Policy] = Dictionary(
        uniqueKeysWithValues: GatewayNamespaces.all.map { ($0.path, $0.defaultRateLimit) }
    )
}
