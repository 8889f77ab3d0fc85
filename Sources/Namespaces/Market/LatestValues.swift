import GatewayJSON
import NIOConcurrencyHelpers

/// The newest payload per (event, symbol) for state-on-subscribe (`latest` in the ack). Written
/// on the feed loop, read on socket loops, behind one lock.
final class LatestValues: Sendable {
    private let store = NIOLockedValueBox<[String: String]>([:])

    func set(_ event: String, symbol: String, payload: String) {
        store.withLockedValue { $0[event + "|" + symbol] = payload }
    }

    /// The payloads of `event` for each symbol that has one, as JSON fragments, in order.
    func latest(_ event: String, symbols: [String]) -> [JSONValue] {
        store.withLockedValue { store in symbols.compactMap { store[event + "|" + $0].map(JSONValue.fragment) } }
    }

    /// Every event's payload for one symbol.
    func all(symbol: String) -> [(event: String, payload: String)] {
        store.withLockedValue { store in
            Self.events.compactMap { event in store[event + "|" + symbol].map { (event, $0) } }
        }
    }

    /// Sets a payload where none is held, or where the held one is older by `timestamp`
    /// (a held payload without one is kept); true when it was set.
    func replace(_ event: String, symbol: String, payload: String, ifNewerThanHeld timestamp: (String) -> Double?) -> Bool {
        store.withLockedValue { store in
            let key = event + "|" + symbol
            if let held = store[key] {
                guard let heldAt = timestamp(held), let newAt = timestamp(payload), newAt > heldAt else { return false }
            }
            store[key] = payload
            return true
        }
    }

    func remove(symbol: String) {
        store.withLockedValue { store in for event in Self.events { store[event + "|" + symbol] = nil } }
    }

    static let events = ["price.update", "market.ticker", "market.stats"]
}
