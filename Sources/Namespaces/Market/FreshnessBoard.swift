import GatewayJSON
import NIOConcurrencyHelpers

/// The symbols that are stale now, for readers off the feed loop: a subscribe that must say so
/// at once, and `admin.stats`. Written by the feed loop only when a symbol turns stale or live.
public final class FreshnessBoard: Sendable {
    public struct StaleSymbol: Sendable {
        public let symbol: String
        public let lastSourceTs: JSONValue
        /// The gateway's clock when the symbol's feed last spoke.
        public let lastArrivalWallMs: Int64

        public func silentMs(now: Int64) -> Int { max(0, Int(now - lastArrivalWallMs)) }

        /// The `market.stale` payload (reason `silent`).
        func payload(now: Int64) -> JSONValue {
            .object([
                JSONMember("symbol", .string(symbol)), JSONMember("reason", "silent"),
                JSONMember("lastSourceTs", lastSourceTs), JSONMember("silentMs", .number(String(silentMs(now: now)))),
            ])
        }
    }

    private let stale = NIOLockedValueBox<[String: StaleSymbol]>([:])

    public init() {}

    func markStale(_ symbol: StaleSymbol) { stale.withLockedValue { $0[symbol.symbol] = symbol } }
    func markLive(_ symbol: String) { _ = stale.withLockedValue { $0.removeValue(forKey: symbol) } }

    /// The stale ones among `symbols`, in their order.
    public func stale(among symbols: [String]) -> [StaleSymbol] {
        stale.withLockedValue { table in
            table.isEmpty ? [] : symbols.compactMap { table[$0] }
        }
    }

    /// Up to `limit` stale symbols (longest silent first) and how many there are.
    public func all(limit: Int) -> (symbols: [StaleSymbol], count: Int) {
        stale.withLockedValue { table in
            (Array(table.values.sorted { $0.lastArrivalWallMs < $1.lastArrivalWallMs }.prefix(limit)), table.count)
        }
    }
}
