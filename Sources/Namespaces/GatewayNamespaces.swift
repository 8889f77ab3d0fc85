import GatewayCore

/// The gateway's namespaces: `/`, `/prices`, `/market`, `/user`, `/admin`.
public enum GatewayNamespaces {
    /// `market`: the feed's state for state-on-subscribe (nil: no feed, empty state).
    public static func make(services: GatewayServices, market: MarketState? = nil) -> [any NamespaceHandler] {
        [
            GatewayNamespace(RootBehavior(), services: services),
            GatewayNamespace(PricesBehavior(market: market), services: services),
            GatewayNamespace(MarketBehavior(market: market), services: services),
            GatewayNamespace(UserBehavior(), services: services),
            GatewayNamespace(AdminBehavior(), services: services),
        ]
    }
}
