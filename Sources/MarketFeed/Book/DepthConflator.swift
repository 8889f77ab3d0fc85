/// Depth at a slower cadence than the feed (SPEC §3 `cadence` 100ms / 1000ms): the deltas of
/// one interval are merged into one (per price the last quantity wins, 0 still removes), so a
/// client applying the merged delta to its book at `prevSeq` ends with the server's book at
/// `seq`. A snapshot or a gap in the feed makes the next emission a snapshot.
///
/// One conflator per symbol and cadence; the caller feeds it every book outcome and asks it
/// to `flush` once per interval.
public struct DepthConflator: Sendable {
    /// What to send subscribers of this cadence.
    public enum Emission: Sendable, Equatable {
        case snapshot(seq: UInt64)
        case delta(prevSeq: UInt64, seq: UInt64, bids: [BookLevel], asks: [BookLevel])
    }

    /// The `seq` of the last emission: what every subscriber of this cadence holds.
    public private(set) var lastSentSeq: UInt64?
    private var needsSnapshot = true
    private var bids: [Double: BookLevel] = [:]
    private var asks: [Double: BookLevel] = [:]
    private var changed = false
    /// Prices merged per side at most; past it the interval ends in a snapshot instead (the book
    /// holds at most that many levels, so a merged delta larger than it carries mostly levels the
    /// book has already dropped, and would grow with the feed's rate).
    private let maxLevels: Int

    public init(maxLevels: Int = .max) {
        self.maxLevels = maxLevels
    }

    /// Takes in what the book did with one depth message.
    public mutating func record(_ outcome: OrderBook.Outcome, _ depth: FeedMessage.Depth) {
        switch outcome {
        case .snapshot, .restarted, .gap:
            needsSnapshot = true
            clear()
        case .delta:
            guard !needsSnapshot else { return }
            for level in depth.bids { bids[level.price.value] = level }
            for level in depth.asks { asks[level.price.value] = level }
            changed = true
            if bids.count > maxLevels || asks.count > maxLevels {
                needsSnapshot = true
                clear()
            }
        }
    }

    /// The emission for this interval, if any; nothing while the book is stale.
    public mutating func flush(_ book: OrderBook) -> Emission? {
        guard !book.isStale, let seq = book.seq else { return nil }
        if needsSnapshot || lastSentSeq == nil {
            needsSnapshot = false
            clear()
            lastSentSeq = seq
            return .snapshot(seq: seq)
        }
        guard changed, let previous = lastSentSeq, seq != previous else { return nil }
        let emission = Emission.delta(
            prevSeq: previous, seq: seq,
            bids: bids.values.sorted { $0.price.value > $1.price.value },
            asks: asks.values.sorted { $0.price.value < $1.price.value }
        )
        clear()
        lastSentSeq = seq
        return emission
    }

    private mutating func clear() {
        bids.removeAll(keepingCapacity: true)
        asks.removeAll(keepingCapacity: true)
        changed = false
    }
}
