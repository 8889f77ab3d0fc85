import GatewayJSON
import MarketFeed

/// The order books of every symbol and their merged deltas per cadence (SPEC §3 `cadence`).
/// A value confined to the feed loop: it applies depth messages and says what to publish,
/// and publishes nothing itself. `package`: `gateway-bench book` measures this very code.
package struct DepthBooks {
    /// What a depth message means for the `raw` room.
    package enum Update: Equatable {
        /// Send this payload (a delta, or a snapshot: also the resync after a gap).
        case publish(String)
        /// A sequence gap: the book is stale until the next snapshot, and nothing is sent.
        case gap
        /// Not applicable to the book (an old sequence, a delta with nothing to apply to).
        case rejected(FeedError)
    }

    private(set) var books: [String: OrderBook] = [:]
    private var conflators: [DepthCadence: [String: DepthConflator]]
    /// The keys of `conflators`, held apart: iterating `conflators.keys` while mutating the
    /// values shares the storage, and each mutation then copied a merged book.
    private let cadences: [DepthCadence]
    private var lastTs: [String: JSONValue] = [:]
    /// Levels kept per side of each book (`feed.maxBookLevels`).
    package let maxLevels: Int
    /// Levels dropped at that bound, in all books, since the last ``takeDroppedLevels()``.
    private var dropped = 0

    /// `cadences`: the merged cadences kept (every one but `raw`).
    package init(cadences: [DepthCadence], maxLevels: Int = .max) {
        conflators = Dictionary(uniqueKeysWithValues: cadences.map { ($0, [:]) })
        self.cadences = cadences
        self.maxLevels = maxLevels
    }

    /// Levels dropped at the bound since the last call.
    mutating func takeDroppedLevels() -> Int {
        defer { dropped = 0 }
        return dropped
    }

    /// Forgets a symbol's book and merged deltas (a learned symbol gone idle).
    mutating func forget(_ symbol: String) {
        books[symbol] = nil
        lastTs[symbol] = nil
        for cadence in cadences { conflators[cadence]![symbol] = nil }
    }

    package mutating func apply(_ depth: FeedMessage.Depth) -> Update {
        // The book is changed where it lies: a copy taken out and stored back would copy both
        // sides (the dictionary still holds them) on every delta.
        let outcome: OrderBook.Outcome
        do throws(FeedError) {
            if books[depth.symbol] != nil {
                let before = books[depth.symbol]!.droppedLevels
                outcome = try books[depth.symbol]!.apply(depth)
                dropped += books[depth.symbol]!.droppedLevels - before
            } else {
                var book = OrderBook(symbol: depth.symbol, maxLevels: maxLevels)
                outcome = try book.apply(depth)
                dropped += book.droppedLevels
                books[depth.symbol] = book
            }
        } catch {
            return .rejected(error)
        }
        let book = books[depth.symbol]!  // stored just above
        lastTs[depth.symbol] = depth.ts
        for cadence in cadences {
            conflators[cadence]![depth.symbol, default: DepthConflator(maxLevels: maxLevels)].record(outcome, depth)
        }
        switch outcome {
        case .snapshot:
            return .publish(MarketPayloads.depthSnapshot(book, ts: depth.ts))
        case .delta(let prevSeq):
            return .publish(MarketPayloads.depthDelta(
                symbol: depth.symbol, seq: depth.seq, prevSeq: prevSeq, bids: depth.bids, asks: depth.asks,
                checksum: book.checksum, ts: depth.ts
            ))
        case .gap:
            return .gap
        }
    }

    /// Each symbol's merged delta (or snapshot) for `cadence` since its last flush; `symbols`
    /// nil: all. `now` stamps a symbol that never had a depth message.
    mutating func flush(_ cadence: DepthCadence, symbols: [String]?, now: JSONValue) -> [(symbol: String, payload: String)] {
        // Taken out while they change, so no storage is shared (and copied) meanwhile.
        guard var perSymbol = conflators.removeValue(forKey: cadence) else { return [] }
        var out: [(symbol: String, payload: String)] = []
        for symbol in symbols ?? Array(perSymbol.keys) {
            guard let book = books[symbol], var conflator = perSymbol.removeValue(forKey: symbol) else { continue }
            let emission = conflator.flush(book)
            perSymbol[symbol] = conflator
            guard let emission else { continue }
            let ts = lastTs[symbol] ?? now
            switch emission {
            case .snapshot:
                out.append((symbol, MarketPayloads.depthSnapshot(book, ts: ts)))
            case .delta(let prevSeq, let seq, let bids, let asks):
                out.append((symbol, MarketPayloads.depthDelta(
                    symbol: symbol, seq: seq, prevSeq: prevSeq, bids: bids, asks: asks, checksum: book.checksum, ts: ts
                )))
            }
        }
        conflators[cadence] = perSymbol
        return out
    }

    /// Snapshots of the books that are not stale, stamped `ts`, as JSON fragments.
    func snapshots(_ symbols: [String], ts: JSONValue) -> [JSONValue] {
        symbols.compactMap { symbol in
            guard let book = books[symbol], !book.isStale else { return nil }
            return .fragment(MarketPayloads.depthSnapshot(book, ts: ts))
        }
    }
}
