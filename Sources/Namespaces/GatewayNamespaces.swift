import GatewayCore

/// One namespace as the rest of the gateway sees it: its path, its key under `rateLimits.` in
/// the configuration, its default token bucket, and how to build its handler.
public struct NamespaceDescriptor: Sendable {
    public let path: NamespacePath
    public let configurationKey: String
    public let defaultRateLimit: TokenBucket.Policy
    let make: @Sendable (NamespaceDependencies) -> any NamespaceHandler
}

/// What the namespace handlers are built with.
public struct NamespaceDependencies: Sendable {
    public let services: GatewayServices
    /// The feed's state for state-on-subscribe (nil: no feed, empty state).
    public let market: MarketState?
    /// Where admin broadcasts go (every instance in cluster mode).
    public let bus: any GatewayBus

    public init(services: GatewayServices, market: MarketState?, bus: (any GatewayBus)? = nil) {
        self.services = services
        self.market = market
        self.bus = bus ?? LocalBus(services: services, market: market)
    }
}

/// The gateway's namespaces, registered once. Adding a namespace means its behaviour file
/// (a ``NamespaceBehavior`` with a `descriptor`) and one line here; the configuration keys,
/// default rate limits, admin broadcasts and stats all follow this list.
public enum GatewayNamespaces {
    public static let all: [NamespaceDescriptor] = [
        RootBehavior.descriptor,
        PricesBehavior.descriptor,
        MarketBehavior.descriptor,
        UserBehavior.descriptor,
        AdminBehavior.descriptor,
    ]

    /// `/`, `/prices`, `/market`, `/user`, `/admin`.
    public static let paths = all.map(\.path)

    public static func make(_ dependencies: NamespaceDependencies) -> [any NamespaceHandler] {
        all.map { $0.make(dependencies) }
    }

    /// Single-instance handlers (tests, tools).
    public static func make(services: GatewayServices, market: MarketState? = nil) -> [any NamespaceHandler] {
        make(NamespaceDependencies(services: services, market: market))
    }
}
