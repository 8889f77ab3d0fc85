import GatewayJSON
import GatewayCore

/// The newest payload per stream and symbol for state-on-subscribe (`latest` in the ack).
/// Written on the feed loop for every throttled tick, read on socket loops: striped by symbol,
/// so a subscribe on one loop does not hold up the feed's writes for other symbols.
final class LatestValues: Sendable {
    private let stripes = StripedLock<[LatestStream.Key: String]> { [:] }

    func set(_ key: LatestStream.Key, payload: String) {
        stripes.withLock(for: key.symbol) { $0[key] = payload }
    }

    /// The payloads of `stream` for each symbol that has one, as JSON fragments, in order.
    func latest(_ stream: LatestStream, symbols: [String]) -> [JSONValue] {
        symbols.compactMap { symbol in
            stripes.withLock(for: symbol) { $0[.init(stream: stream, symbol: symbol)].map(JSONValue.fragment) }
        }
    }

    /// Every stream's payload for one symbol.
    func all(symbol: String) -> [(stream: LatestStream, payload: String)] {
        stripes.withLock(for: symbol) { store in
            LatestStream.allCases.compactMap { stream in store[.init(stream: stream, symbol: symbol)].map { (stream, $0) } }
        }
    }

    /// Sets a payload where none is held, or where the held one is older by `timestamp`
    /// (a held payload without one is kept); true when it was set.
    func replace(_ key: LatestStream.Key, payload: String, ifNewerThanHeld timestamp: (String) -> Double?) -> Bool {
        stripes.withLock(for: key.symbol) { store in
            if let held = store[key] {
                guard let heldAt = timestamp(held), let newAt = timestamp(payload), newAt > heldAt else { return false }
            }
            store[key] = payload
            return true
        }
    }

    func remove(symbol: String) {
        stripes.withLock(for: symbol) { store in for stream in LatestStream.allCases { store[.init(stream: stream, symbol: symbol)] = nil } }
    }
}
