import GatewayJSON
@testable import MarketFeed
import Testing

@Suite("Depth-N views of a book")
struct DepthViewTests {
    static let parser = FeedParser(symbols: ["S/T"])

    static func depth(_ kind: String, _ seq: UInt64, bids: [(Double, Double)], asks: [(Double, Double)]) -> FeedMessage.Depth {
        func side(_ levels: [(Double, Double)]) -> String {
            "[" + levels.map { #"["\#(Self.text($0.0))","\#(Self.text($0.1))"]"# }.joined(separator: ",") + "]"
        }
        let text = #"{"type":"depth","symbol":"S/T","kind":"\#(kind)","seq":\#(seq),"bids":\#(side(bids)),"asks":\#(side(asks)),"ts":1}"#
        guard case .depth(let message) = try! parser.parse(text: text) else { fatalError() }
        return message
    }

    static func text(_ value: Double) -> String { String(format: "%.2f", value) }

    /// What a subscriber holds after applying a view's emission to its book.
    struct Holder {
        var bids: [Double: BookLevel] = [:]
        var asks: [Double: BookLevel] = [:]
        var seq: UInt64?

        mutating func apply(_ emission: DepthView.Emission) {
            switch emission {
            case .snapshot(let seq, let bids, let asks):
                self.bids = Dictionary(uniqueKeysWithValues: bids.map { ($0.price.value, $0) })
                self.asks = Dictionary(uniqueKeysWithValues: asks.map { ($0.price.value, $0) })
                self.seq = seq
            case .delta(let prevSeq, let seq, let bids, let asks):
                #expect(prevSeq == self.seq, "deltas chain")
                for level in bids { self.bids[level.price.value] = level.qty.isZero ? nil : level }
                for level in asks { self.asks[level.price.value] = level.qty.isZero ? nil : level }
                self.seq = seq
            }
        }

        var sortedBids: [BookLevel] { bids.values.sorted { $0.price.value > $1.price.value } }
        var sortedAsks: [BookLevel] { asks.values.sorted { $0.price.value < $1.price.value } }
    }

    @Test("3,000 random deltas of a 1,000-level book: every view holds exactly the book's top N", arguments: [10, 50, 200])
    func viewsFollowTheBook(levels: Int) throws {
        var generator = SystemRandomNumberGenerator()
        var book = OrderBook(symbol: "S/T", maxLevels: 1_000)
        let bids = (1...1_000).map { (1_000.0 - Double($0) * 0.01, Double.random(in: 1...9, using: &generator)) }
        let asks = (1...1_000).map { (1_000.0 + Double($0) * 0.01, Double.random(in: 1...9, using: &generator)) }
        _ = try book.apply(Self.depth("snapshot", 1, bids: bids, asks: asks))
        var view = DepthView(levels: levels)
        var holder = Holder()
        let first = view.update(from: book)
        holder.apply(try #require(first))
        var skipped = 0
        for seq in UInt64(2)...3_001 {
            // Mostly near the top, where a depth-N view notices; removals pull deeper levels in.
            func level(_ base: Double, _ sign: Double) -> (Double, Double) {
                let offset = Double(Int.random(in: 1...(Bool.random() ? 2 * levels : 1_000), using: &generator)) * 0.01
                return (base + sign * offset, Bool.random() ? 0 : Double(Int.random(in: 1...9, using: &generator)))
            }
            let delta = Self.depth("delta", seq, bids: [level(1_000, -1)], asks: [level(1_000, 1)])
            _ = try book.apply(delta)
            if let emission = view.update(from: book, touched: delta) { holder.apply(emission) } else { skipped += 1 }
            #expect(holder.sortedBids == book.bidLevels(limit: levels) && holder.sortedAsks == book.askLevels(limit: levels), "at seq \(seq)")
            #expect(view.checksum == OrderBook.checksum(bids: book.bidLevels(limit: levels), asks: book.askLevels(limit: levels)))
            if holder.sortedBids != book.bidLevels(limit: levels) { return }
        }
        #expect(skipped > 0, "deltas below the top N send nothing")
    }

    @Test("a level pushed out of the top N leaves with quantity 0 in the feed's form; one pulled in arrives whole")
    func pushedOutAndPulledIn() throws {
        var book = OrderBook(symbol: "S/T")
        _ = try book.apply(Self.depth("snapshot", 1, bids: [(10, 1), (9, 1), (8, 1)], asks: [(11, 1)]))
        var view = DepthView(levels: 2)
        _ = view.update(from: book)
        _ = try book.apply(Self.depth("delta", 2, bids: [(10.5, 2)], asks: []))
        guard case .delta(1, 2, let bids, let asks)? = view.update(from: book) else { Issue.record("a delta"); return }
        #expect(bids.map { [$0.price.text, $0.qty.text] } == [["10.50", "2.00"], ["9.00", "0"]])
        #expect(bids.last?.qty.json == .string("0"), "the removal's quantity is a string like the feed's")
        #expect(asks.isEmpty)
        _ = try book.apply(Self.depth("delta", 3, bids: [(10.5, 0)], asks: []))
        guard case .delta(2, 3, let pulled, _)? = view.update(from: book) else { Issue.record("a delta"); return }
        #expect(pulled.map { [$0.price.text, $0.qty.text] } == [["10.50", "0"], ["9.00", "1.00"]])
    }

    @Test("the checksum covers every held level; at depth 10 it is the book's top-10 checksum")
    func checksumOverHeldLevels() throws {
        var book = OrderBook(symbol: "S/T")
        _ = try book.apply(Self.depth("snapshot", 1, bids: (1...30).map { (100 - Double($0), 1) }, asks: (1...30).map { (100 + Double($0), 2) }))
        var ten = DepthView(levels: 10)
        _ = ten.update(from: book)
        #expect(ten.checksum == book.checksum)
        var fifty = DepthView(levels: 50)
        _ = fifty.update(from: book)
        #expect(fifty.checksum == OrderBook.checksum(bids: book.bidLevels(), asks: book.askLevels()))
        #expect(fifty.checksum != book.checksum)
    }

    @Test("a snapshot below the book's seq is a restart; an older delta is still refused")
    func restart() throws {
        var book = OrderBook(symbol: "S/T")
        _ = try book.apply(Self.depth("snapshot", 50, bids: [(1, 1)], asks: []))
        #expect(try book.apply(Self.depth("snapshot", 3, bids: [(1, 2)], asks: [])) == .restarted(previousSeq: 50))
        #expect(book.seq == 3)
        #expect(throws: FeedError.self) { try book.apply(Self.depth("delta", 3, bids: [], asks: [])) }
    }
}
