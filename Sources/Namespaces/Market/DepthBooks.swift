import GatewayJSON
import MarketFeed

/// The order books of every symbol and their merged deltas per cadence (SPEC §3 `cadence`).
/// A value confined to the feed loop: it applies depth messages and says what to publish,
/// and publishes nothing itself. `package`: `gateway-bench book` measures this very code.
package struct DepthBooks {
    /// What a depth message means for the `raw` room.
    package enum Update: Equatable {
        /// Send this payload (a delta, or a snapshot: also the resync after a gap), which carries
        /// `sequences` (a delta `prevSeq + 1 ... seq`, a snapshot its `seq`).
        case publish(String, sequences: ClosedRange<UInt64>)
        /// A snapshot below the book's `seq`: the feed's sequence began again.
        case restarted(String, previousSeq: UInt64, seq: UInt64)
        /// A sequence gap: the book is stale until the next snapshot, and nothing is sent.
        /// `expected`: the `seq` that should have come (nil when the book was already stale).
        case gap(expected: UInt64?, got: UInt64)
        /// Not applicable to the book (an old sequence, a delta with nothing to apply to).
        case rejected(FeedError)
    }

    private(set) var books: [String: OrderBook] = [:]
    /// Depth-N views per symbol, cadence and N (docs/market-data.md `"depth"`), kept while
    /// someone holds them: DepthBooks+Views.swift.
    var views: [ViewKey: DepthView] = [:]
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
        views = views.filter { $0.key.symbol != symbol }
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
            // A view at this seq or past it cannot chain onto the new book by a delta.
            invalidateViews(of: depth.symbol, atOrAbove: depth.seq)
            return .publish(MarketPayloads.depthSnapshot(book, ts: depth.ts), sequences: depth.seq...depth.seq)
        case .restarted(let previousSeq):
            invalidateViews(of: depth.symbol)
            return .restarted(MarketPayloads.depthSnapshot(book, ts: depth.ts), previousSeq: previousSeq, seq: depth.seq)
        case .delta(let prevSeq):
            return .publish(MarketPayloads.depthDelta(
                symbol: depth.symbol, seq: depth.seq, prevSeq: prevSeq, bids: depth.bids, asks: depth.asks,
                checksum: book.checksum, ts: depth.ts
            ), sequences: (prevSeq + 1)...depth.seq)
        case .gap(let expected, let got):
            return .gap(expected: expected, got: got)
        }
    }

    /// Each symbol's merged delta (or snapshot) for `cadence` since its last flush; `symbols`
    /// nil: all. `now` stamps a symbol that never had a depth message.
    mutating func flush(_ cadence: DepthCadence, symbols: [String]?, now: JSONValue) -> [Emitted] {
        // Taken out while they change, so no storage is shared (and copied) meanwhile.
        guard var perSymbol = conflators.removeValue(forKey: cadence) else { return [] }
        var out: [Emitted] = []
        for symbol in symbols ?? Array(perSymbol.keys) {
            guard let book = books[symbol], var conflator = perSymbol.removeValue(forKey: symbol) else { continue }
            let emission = conflator.flush(book)
            perSymbol[symbol] = conflator
            guard let emission else { continue }
            let ts = lastTs[symbol] ?? now
            switch emission {
            case .snapshot(let seq):
                out.append(Emitted(symbol: symbol, payload: MarketPayloads.depthSnapshot(book, ts: ts), sequences: seq...seq))
            case .delta(let prevSeq, let seq, let bids, let asks):
                out.append(Emitted(symbol: symbol, payload: MarketPayloads.depthDelta(
                    symbol: symbol, seq: seq, prevSeq: prevSeq, bids: bids, asks: asks, checksum: book.checksum, ts: ts
                ), sequences: (prevSeq + 1)...seq))
            }
        }
        conflators[cadence] = perSymbol
        return out
    }

    /// One depth payload for one symbol's room.
    package struct Emitted {
        package let symbol: String
        package let payload: String
        package let sequences: ClosedRange<UInt64>
    }

    /// Snapshots of the books that are not stale, stamped `ts`.
    func snapshots(_ symbols: [String], ts: JSONValue) -> [DepthSnapshot] {
        symbols.compactMap { symbol in
            guard let book = books[symbol], !book.isStale, let seq = book.seq else { return nil }
            return DepthSnapshot(symbol: symbol, seq: seq, json: .fragment(MarketPayloads.depthSnapshot(book, ts: ts)))
        }
    }

    /// The `seq` of `cadence`'s last merged emission of `symbol`.
    func conflatorSeq(_ symbol: String, _ cadence: DepthCadence) -> UInt64? {
        conflators[cadence]?[symbol]?.lastSentSeq
    }

    /// The last `ts` the feed gave the symbol's book.
    func lastTs(_ symbol: String) -> JSONValue? { lastTs[symbol] }
}
