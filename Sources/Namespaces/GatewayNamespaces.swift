import GatewayCore

/// One namespace as the rest of the gateway sees it: its path, its key under `rateLimits.` in
/// the configuration, its default token bucket, and how to build its handler.
public struct NamespaceDescriptor: Sendable {
    public let path: String
    public let configurationKey: String
    public let defaultRateLimit: TokenBucket.Policy
    let make: @Sendable (GatewayServices, MarketState?) -> any NamespaceHandler
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

    /// `market`: the feed's state for state-on-subscribe (nil: no feed, empty state).
    public static func make(services: GatewayServices, market: MarketState? = nil) -> [any NamespaceHandler] {
        all.map { $0.make(services, market) }
    }
}
