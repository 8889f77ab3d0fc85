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
}
