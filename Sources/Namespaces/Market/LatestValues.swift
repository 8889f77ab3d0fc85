import GatewayJSON
import NIOConcurrencyHelpers

/// The newest payload per stream and symbol for state-on-subscribe (`latest` in the ack).
/// Written on the feed loop, read on socket loops, behind one lock.
final class LatestValues: Sendable {
    private let store = NIOLockedValueBox<[LatestStream.Key: String]>([:])

    func set(_ key: LatestStream.Key, payload: String) {
        store.withLockedValue { $0[key] = payload }
    }

    /// The payloads of `stream` for each symbol that has one, as JSON fragments, in order.
    func latest(_ stream: LatestStream, symbols: [String]) -> [JSONValue] {
        store.withLockedValue { store in symbols.compactMap { store[.init(stream: stream, symbol: $0)].map(JSONValue.fragment) } }
    }

    /// Every stream's payload for one symbol.
    func all(symbol: String) -> [(stream: LatestStream, payload: String)] {
        store.withLockedValue { store in
            LatestStream.allCases.compactMap { stream in store[.init(stream: stream, symbol: symbol)].map { (stream, $0) } }
        }
    }

    /// Sets a payload where none is held, or where the held one is older by `timestamp`
    /// (a held payload without one is kept); true when it was set.
    func replace(_ key: LatestStream.Key, payload: String, ifNewerThanHeld timestamp: (String) -> Double?) -> Bool {
        store.withLockedValue { store in
            if let held = store[key] {
                guard let heldAt = timestamp(held), let newAt = timestamp(payload), newAt > heldAt else { return false }
            }
            store[key] = payload
            return true
        }
    }

    func remove(symbol: String) {
        store.withLockedValue { store in for stream in LatestStream.allCases { store[.init(stream: stream, symbol: symbol)] = nil } }
    }
}
