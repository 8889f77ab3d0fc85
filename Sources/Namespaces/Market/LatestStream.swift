import GatewayCore
/// The latest-value streams (SPEC §5): a newer payload replaces the older one, for throttles,
/// state-on-subscribe and a lagging socket's conflation alike.
enum LatestStream: String, CaseIterable, Sendable {
    case price = "price.update"
    case ticker = "market.ticker"
    case stats = "market.stats"

    /// The event the payload goes out as.
    var event: String { rawValue }

    /// The room a payload of `symbol` goes to.
    func room(_ symbol: String) -> Room {
        switch self {
        case .price: .prices(symbol: symbol)
        case .ticker: .market(.ticker, symbol: symbol)
        case .stats: .market(.stats, symbol: symbol)
        }
    }

    /// One symbol's stream: the key of its throttle and of its latest value.
    struct Key: Hashable, Sendable {
        let stream: LatestStream
        let symbol: String
    }
}

extension ConflationKey {
    /// A symbol's `market.status` to the whole of `/market`: the feed's and the admin's alike.
    static func marketStatus(_ symbol: String) -> ConflationKey {
        ConflationKey(.init(room: .everyone(in: MarketBehavior.path), event: "market.status", subject: symbol), policy: .latestWins)
    }
}
