/// The best `levels` of a book as its depth-N subscribers hold them (docs/market-data.md
/// `"depth"`): a snapshot of the top N, then deltas of what changed within it. A level that
/// enters the top N arrives as an insert even when the feed did not touch it (a level above it
/// went away), and one pushed out leaves with quantity 0 though it is still in the book.
///
/// A value the feed loop keeps per symbol, cadence and N; it compares the book with what it
/// last sent, so it is right whatever the feed did in between (one delta or a merged interval).
public struct DepthView: Sendable {
    public enum Emission: Sendable, Equatable {
        case snapshot(seq: UInt64, bids: [BookLevel], asks: [BookLevel])
        case delta(prevSeq: UInt64, seq: UInt64, bids: [BookLevel], asks: [BookLevel])
    }

    public let levels: Int
    /// What every subscriber holds, best first.
    public private(set) var bids: [BookLevel] = []
    public private(set) var asks: [BookLevel] = []
    /// The `seq` of the last emission: a delta that changed nothing within the top N sends
    /// nothing, so this may be behind the book's.
    public private(set) var seq: UInt64?
    private var needsSnapshot = true

    public init(levels: Int) {
        self.levels = max(1, levels)
    }

    /// The checksum of everything held (SPEC §5's form over N levels per side).
    public var checksum: UInt32 { OrderBook.checksum(bids: bids[...], asks: asks[...]) }

    /// The next emission is a snapshot (the book broke, or the feed sent a new one).
    public mutating func invalidate() {
        needsSnapshot = true
    }

    /// What to send after the book changed; nil when nothing within the top N did, or the book
    /// is stale. `touched`: the feed delta that made the change, when there was exactly one:
    /// a delta wholly below a full view is skipped without comparing.
    public mutating func update(from book: OrderBook, touched: FeedMessage.Depth? = nil) -> Emission? {
        guard !book.isStale, let bookSeq = book.seq else { return nil }
        // A book behind what was sent (its sequence began again) cannot be reached by a delta.
        if needsSnapshot || seq == nil || bookSeq < seq! {
            needsSnapshot = false
            bids = book.bidLevels(limit: levels)
            asks = book.askLevels(limit: levels)
            seq = bookSeq
            return .snapshot(seq: bookSeq, bids: bids, asks: asks)
        }
        guard let previous = seq, bookSeq != previous else { return nil }
        if let touched, isBelow(touched) { return nil }
        // Compared in place; copied only when something changed.
        let newBids = book.bidPrefix(levels)
        let newAsks = book.askPrefix(levels)
        let bidChanges = Self.changes(from: bids[...], to: newBids, descending: true)
        let askChanges = Self.changes(from: asks[...], to: newAsks, descending: false)
        guard !bidChanges.isEmpty || !askChanges.isEmpty else { return nil }
        if !bidChanges.isEmpty { bids = Array(newBids) }
        if !askChanges.isEmpty { asks = Array(newAsks) }
        seq = bookSeq
        return .delta(prevSeq: previous, seq: bookSeq, bids: bidChanges, asks: askChanges)
    }

    /// True when every level of `depth` lies strictly below a full side of the view, so the top
    /// N cannot have changed.
    private func isBelow(_ depth: FeedMessage.Depth) -> Bool {
        guard bids.count == levels, asks.count == levels, let worstBid = bids.last, let worstAsk = asks.last else { return false }
        return depth.bids.allSatisfy { $0.price.value < worstBid.price.value }
            && depth.asks.allSatisfy { $0.price.value > worstAsk.price.value }
    }

    /// The levels that turn `old` into `new` (both best first): changed or new levels as they
    /// are now, and levels gone with quantity 0 (written as the feed wrote that quantity's kind).
    static func changes(from old: ArraySlice<BookLevel>, to new: ArraySlice<BookLevel>, descending: Bool) -> [BookLevel] {
        var out: [BookLevel] = []
        var i = old.startIndex
        var j = new.startIndex
        while i < old.endIndex || j < new.endIndex {
            if j == new.endIndex || (i < old.endIndex && Self.isBetter(old[i], than: new[j], descending: descending)) {
                out.append(old[i].removed)
                i += 1
            } else if i == old.endIndex || Self.isBetter(new[j], than: old[i], descending: descending) {
                out.append(new[j])
                j += 1
            } else {
                // Same price: compared by text (cheap) before the JSON forms.
                if old[i].qty.text != new[j].qty.text || old[i] != new[j] { out.append(new[j]) }
                i += 1
                j += 1
            }
        }
        return out
    }

    private static func isBetter(_ a: BookLevel, than b: BookLevel, descending: Bool) -> Bool {
        descending ? a.price.value > b.price.value : a.price.value < b.price.value
    }
}

extension BookLevel {
    /// This level with quantity 0 (a removal), the zero in the same JSON kind as its quantity.
    var removed: BookLevel {
        BookLevel(price: price, qty: qty.json.stringValue != nil ? DecimalText.zeroString : DecimalText.zeroNumber)
    }
}
