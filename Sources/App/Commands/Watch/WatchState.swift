import GatewayClient
import NIOConcurrencyHelpers

/// What `gateway watch` shows, updated by the client's streams and read by the screen.
struct WatchState: Sendable {
    var symbols: [String]
    var focus = 0
    var prices: [String: PriceUpdate] = [:]
    /// The previous price of each symbol, for the up/down mark.
    var previous: [String: String] = [:]
    var books: [String: OrderBook] = [:]
    var trades: [String: [Trade]] = [:]
    var userEvents: [String] = []
    var connection: GatewayClient.ConnectionState = .connecting
    var statistics = GatewayClient.Statistics()
    /// Each symbol's freshness as the client knows it (stale feeds, broken books, declared gaps).
    var freshness: [String: MarketFreshness] = [:]
    var problem: String?

    var focused: String { symbols[focus] }

    mutating func price(_ update: PriceUpdate) {
        if let old = prices[update.symbol]?.price, old != update.price { previous[update.symbol] = old }
        prices[update.symbol] = update
    }

    mutating func trade(_ trade: Trade, keep: Int) {
        var list = trades[trade.symbol] ?? []
        list.insert(trade, at: 0)
        trades[trade.symbol] = Array(list.prefix(keep))
    }

    mutating func user(_ element: UserStreamElement, keep: Int) {
        let line: String
        switch element {
        case .event(let event): line = "\(event.name) \(event.payload.compactText)"
        case .recoveryFailed: line = "— reconnected without recovery: events may be missing; refetch your state —"
        }
        userEvents.insert(line, at: 0)
        userEvents = Array(userEvents.prefix(keep))
    }
}

/// The shared state and whether the screen needs drawing.
final class WatchModel: Sendable {
    private let box: NIOLockedValueBox<(state: WatchState, dirty: Bool)>

    init(_ state: WatchState) {
        box = NIOLockedValueBox((state, true))
    }

    func update(_ change: (inout WatchState) -> Void) {
        box.withLockedValue { value in
            change(&value.state)
            value.dirty = true
        }
    }

    /// The state when it changed since the last call.
    func takeIfChanged() -> WatchState? {
        box.withLockedValue { value in
            guard value.dirty else { return nil }
            value.dirty = false
            return value.state
        }
    }
}
