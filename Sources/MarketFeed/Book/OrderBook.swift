/// One symbol's order book (SPEC §5): snapshots replace it, deltas apply level by level in
/// strictly rising `seq` order, a quantity of 0 removes a level. A delta that skips a `seq`
/// marks the book stale until the next snapshot, so nobody is ever given a wrong book.
public struct OrderBook: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// The book was replaced.
        case snapshot
        /// The book was replaced by a snapshot whose `seq` is below the book's: the feed's
        /// sequence began again (a producer restart), from `previousSeq`.
        case restarted(previousSeq: UInt64)
        /// The delta applied on top of `prevSeq`.
        case delta(prevSeq: UInt64)
        /// The delta did not follow the last `seq`: the book is stale until a snapshot.
        case gap(expected: UInt64?, got: UInt64)
    }

    public let symbol: String
    public private(set) var seq: UInt64?
    public private(set) var isStale = true
    /// Levels kept per side (`feed.maxBookLevels`): the best ones; a level past the bound is
    /// dropped, as an exchange's depth-N book does, so no feed can make a book (and every new
    /// subscriber's snapshot) grow without end.
    public let maxLevels: Int
    /// Levels dropped at the bound since the book was made (for the metric).
    public private(set) var droppedLevels = 0
    /// Best first: bids high to low, asks low to high. Sorted arrays, because every update
    /// needs the top 10 for the checksum and books are tens of levels deep: a binary search
    /// and a short move beat hashing plus a full sort per delta.
    private var bids: [BookLevel] = []
    private var asks: [BookLevel] = []

    public init(symbol: String, maxLevels: Int = .max) {
        self.symbol = symbol
        self.maxLevels = max(1, maxLevels)
    }

    public mutating func apply(_ depth: FeedMessage.Depth) throws(FeedError) -> Outcome {
        switch depth.kind {
        case .snapshot:
            // A snapshot is the whole truth, whatever its seq: a lower one means the producer
            // started its sequence again, and subscribers are told so.
            let restartedFrom = seq.flatMap { depth.seq < $0 && !isStale ? $0 : nil }
            bids = Self.sorted(depth.bids, descending: true, maxLevels: maxLevels, dropped: &droppedLevels)
            asks = Self.sorted(depth.asks, descending: false, maxLevels: maxLevels, dropped: &droppedLevels)
            seq = depth.seq
            isStale = false
            return restartedFrom.map { .restarted(previousSeq: $0) } ?? .snapshot
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
            for level in depth.bids { Self.update(&bids, level, descending: true, maxLevels: maxLevels, dropped: &droppedLevels) }
            for level in depth.asks { Self.update(&asks, level, descending: false, maxLevels: maxLevels, dropped: &droppedLevels) }
            seq = depth.seq
            return .delta(prevSeq: current)
        }
    }

    /// One level per price (the last one given wins), zero quantities dropped, best first.
    private static func sorted(_ levels: [BookLevel], descending: Bool, maxLevels: Int, dropped: inout Int) -> [BookLevel] {
        var side: [BookLevel] = []
        side.reserveCapacity(min(levels.count, maxLevels))
        for level in levels { update(&side, level, descending: descending, maxLevels: maxLevels, dropped: &dropped) }
        return side
    }

    /// Sets, replaces or (quantity 0) removes the level at its price; a new level past
    /// `maxLevels` is dropped, and one that pushes the side past it drops the worst.
    private static func update(_ side: inout [BookLevel], _ level: BookLevel, descending: Bool, maxLevels: Int, dropped: inout Int) {
        let price = level.price.value
        var low = 0
        var high = side.count
        while low < high {
            let middle = (low + high) / 2
            let other = side[middle].price.value
            if descending ? other > price : other < price { low = middle + 1 } else { high = middle }
        }
        let found = low < side.count && side[low].price.value == price
        if level.qty.isZero {
            if found { side.remove(at: low) }
        } else if found {
            side[low] = level
        } else if low >= maxLevels {
            dropped += 1
        } else {
            if side.count >= maxLevels {
                side.removeLast()
                dropped += 1
            }
            side.insert(level, at: low)
        }
    }

    /// The best `limit` levels of each side without copying them (a depth-N view compares them).
    public func bidPrefix(_ limit: Int) -> ArraySlice<BookLevel> { bids.prefix(limit) }
    public func askPrefix(_ limit: Int) -> ArraySlice<BookLevel> { asks.prefix(limit) }

    /// Best first: bids high to low.
    public func bidLevels(limit: Int = .max) -> [BookLevel] {
        Array(bids.prefix(limit))
    }

    /// Best first: asks low to high.
    public func askLevels(limit: Int = .max) -> [BookLevel] {
        Array(asks.prefix(limit))
    }

    /// CRC32 of the top 10 levels written `bidPrice:bidQty:askPrice:askQty:` level by level,
    /// in the strings the feed gave (a side that has run out contributes nothing).
    public var checksum: UInt32 {
        Self.checksum(bids: bids.prefix(10), asks: asks.prefix(10))
    }

    /// The checksum over every level given (a depth-N view's whole book), in the same form.
    public static func checksum(bids: ArraySlice<BookLevel>, asks: ArraySlice<BookLevel>) -> UInt32 {
        var crc = CRC32.Running()
        let colon = CollectionOfOne(UInt8(ascii: ":"))
        func add(_ level: BookLevel) {
            crc.add(level.price.text.utf8)
            crc.add(colon)
            crc.add(level.qty.text.utf8)
            crc.add(colon)
        }
        for offset in 0..<max(bids.count, asks.count) {
            if offset < bids.count { add(bids[bids.startIndex + offset]) }
            if offset < asks.count { add(asks[asks.startIndex + offset]) }
        }
        return crc.value
    }

    public static func checksum(bids: [BookLevel], asks: [BookLevel]) -> UInt32 {
        checksum(bids: bids[...], asks: asks[...])
    }
}
