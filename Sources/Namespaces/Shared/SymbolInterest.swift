import NIOConcurrencyHelpers

/// Which symbols have a `/prices` or `/market` subscriber on this instance (counted per socket
/// and room). In cluster mode the bus follows a symbol's channel only while it is wanted here,
/// so ticks, trades, tickers and stats of symbols nobody here watches do not cross Redis to
/// this instance.
public final class SymbolInterest: Sendable {
    private let counts = NIOLockedValueBox<[String: Int]>([:])
    private let observer = NIOLockedValueBox<(@Sendable (String) -> Void)?>(nil)

    public init() {}

    /// `changed(symbol)` after a symbol became wanted or unwanted (calls may arrive out of order
    /// from different loops: read ``isWanted(_:)`` to act on them).
    public func observe(_ changed: @escaping @Sendable (String) -> Void) {
        observer.withLockedValue { $0 = changed }
    }

    func add(_ symbols: [String]) { change(symbols, by: 1) }
    func remove(_ symbols: [String]) { change(symbols, by: -1) }

    public func isWanted(_ symbol: String) -> Bool { counts.withLockedValue { $0[symbol] != nil } }

    public var wanted: [String] { counts.withLockedValue { Array($0.keys) } }

    private func change(_ symbols: [String], by step: Int) {
        guard !symbols.isEmpty else { return }
        let flipped = counts.withLockedValue { counts -> [String] in
            var flipped: [String] = []
            for symbol in symbols {
                let before = counts[symbol, default: 0]
                let after = max(0, before + step)
                counts[symbol] = after == 0 ? nil : after
                if (before == 0) != (after == 0) { flipped.append(symbol) }
            }
            return flipped
        }
        guard !flipped.isEmpty, let changed = observer.withLockedValue({ $0 }) else { return }
        for symbol in flipped { changed(symbol) }
    }
}
