/// One symbol's order book (SPEC §5): snapshots replace it, deltas apply level by level in
/// strictly rising `seq` order, a quantity of 0 removes a level. A delta that skips a `seq`
/// marks the book stale until the next snapshot, so nobody is ever given a wrong book.
public struct OrderBook: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// The book was replaced.
        case snapshot
        /// The delta applied on top of `prevSeq`.
        case delta(prevSeq: UInt64)
        /// The delta did not follow the last `seq`: the book is stale until a snapshot.
        case gap(expected: UInt64?, got: UInt64)
    }

    public let symbol: String
    public private(set) var seq: UInt64?
    public private(set) var isStale = true
    private var bids: [Double: BookLevel] = [:]
    private var asks: [Double: BookLevel] = [:]

    public init(symbol: String) {
        self.symbol = symbol
    }

    public mutating func apply(_ depth: FeedMessage.Depth) throws(FeedError) -> Outcome {
        switch depth.kind {
        case .snapshot:
            if let seq, depth.seq < seq, !isStale {
                throw FeedError(.staleSequence, "snapshot seq \(depth.seq) is older than the book's \(seq)")
            }
            bids = Self.index(depth.bids)
            asks = Self.index(depth.asks)
            seq = depth.seq
            isStale = false
            return .snapshot
        case .delta:
            if let seq, depth.seq <= seq {
                throw FeedError(.staleSequence, "delta seq \(depth.seq) is not after the book's \(seq)")
            }
            guard let current = seq, !isStale, depth.seq == current + 1 else {
                // While stale (or before the first snapshot) no delta is expected at all.
                let expected = isStale ? nil : seq.map { $0 + 1 }
                isStale = true
                seq = depth.seq
                return .gap(expected: expected, got: depth.seq)
            }
            for level in depth.bids { Self.update(&bids, level) }
            for level in depth.asks { Self.update(&asks, level) }
            seq = depth.seq
            return .delta(prevSeq: current)
        }
    }

    private static func index(_ levels: [BookLevel]) -> [Double: BookLevel] {
        var indexed: [Double: BookLevel] = [:]
        for level in levels where !level.qty.isZero { indexed[level.price.value] = level }
        return indexed
    }

    private static func update(_ side: inout [Double: BookLevel], _ level: BookLevel) {
        side[level.price.value] = level.qty.isZero ? nil : level
    }

    /// Best first: bids high to low.
    public func bidLevels(limit: Int = .max) -> [BookLevel] {
        Array(bids.values.sorted { $0.price.value > $1.price.value }.prefix(limit))
    }

    /// Best first: asks low to high.
    public func askLevels(limit: Int = .max) -> [BookLevel] {
        Array(asks.values.sorted { $0.price.value < $1.price.value }.prefix(limit))
    }

    /// CRC32 of the top 10 levels written `bidPrice:bidQty:askPrice:askQty:` level by level,
    /// in the strings the feed gave (a side that has run out contributes nothing).
    public var checksum: UInt32 {
        Self.checksum(bids: bidLevels(limit: 10), asks: askLevels(limit: 10))
    }

    public static func checksum(bids: [BookLevel], asks: [BookLevel]) -> UInt32 {
        var text = ""
        for index in 0..<10 {
            if index < bids.count { text += bids[index].price.text + ":" + bids[index].qty.text + ":" }
            if index < asks.count { text += asks[index].price.text + ":" + asks[index].qty.text + ":" }
        }
        return CRC32.checksum(text.utf8)
    }
}
