import GatewayCore

/// The gateway's namespaces: `/`, `/prices`, `/market`, `/user`, `/admin`.
public enum GatewayNamespaces {
    public static func make(services: GatewayServices) -> [any NamespaceHandler] {
        [
            GatewayNamespace(RootBehavior(), services: services),
            GatewayNamespace(PricesBehavior(), services: services),
            GatewayNamespace(MarketBehavior(), services: services),
            GatewayNamespace(UserBehavior(), services: services),
            GatewayNamespace(AdminBehavior(), services: services),
        ]
    }
}
