import MarketFeed
import Testing

/// A client's book, built only from what a subscriber of one cadence receives.
struct ClientBook {
    var seq: UInt64?
    var bids: [String: BookLevel] = [:]
    var asks: [String: BookLevel] = [:]

    mutating func apply(_ emission: DepthConflator.Emission, server: OrderBook) {
        switch emission {
        case .snapshot(let seq):
            self.seq = seq
            bids = Dictionary(uniqueKeysWithValues: server.bidLevels().map { ($0.price.text, $0) })
            asks = Dictionary(uniqueKeysWithValues: server.askLevels().map { ($0.price.text, $0) })
        case .delta(let prevSeq, let seq, let newBids, let newAsks):
            #expect(prevSeq == self.seq, "every delta chains onto the last message this subscriber got")
            for level in newBids { bids[level.price.text] = level.qty.isZero ? nil : level }
            for level in newAsks { asks[level.price.text] = level.qty.isZero ? nil : level }
            self.seq = seq
        }
    }

    var checksum: UInt32 {
        OrderBook.checksum(
            bids: Array(bids.values.sorted { $0.price.value > $1.price.value }.prefix(10)),
            asks: Array(asks.values.sorted { $0.price.value < $1.price.value }.prefix(10))
        )
    }
}

@Suite("Depth cadence conflation")
struct DepthConflatorTests {
    /// A random market: snapshots, deltas that add, change and remove levels, and sometimes a
    /// skipped sequence number (a feed gap).
    struct RandomFeed {
        var generator: SeededGenerator
        var seq: UInt64 = 0

        mutating func levels(_ count: Int, around mid: Int, side: Int) -> [BookLevel] {
            (0..<count).map { _ in
                let price = mid + side * Int(generator.next(upperBound: UInt64(40)))
                let qty = generator.next(upperBound: UInt64(4)) == 0 ? "0" : "\(generator.next(upperBound: UInt64(900)) + 1).\(generator.next(upperBound: UInt64(10)))"
                return level("\(price).5", qty)
            }
        }

        mutating func next() -> FeedMessage.Depth {
            let roll = generator.next(upperBound: UInt64(100))
            if seq == 0 || roll < 3 {
                seq += 1
                return depth(.snapshot, seq, bids: levels(30, around: 1000, side: -1).filter { !$0.qty.isZero },
                             asks: levels(30, around: 1001, side: 1).filter { !$0.qty.isZero })
            }
            seq += roll < 6 ? 2 : 1  // a gap now and then
            let bidCount = Int(generator.next(upperBound: UInt64(4)))
            let askCount = Int(generator.next(upperBound: UInt64(4)))
            return depth(.delta, seq, bids: levels(bidCount, around: 1000, side: -1), asks: levels(askCount, around: 1001, side: 1))
        }
    }

    @Test("a client rebuilding the book from conflated deltas always equals the server's book and checksum",
          arguments: [1, 2, 5, 20] as [Int])
    func rebuild(flushEvery: Int) throws {
        for seed in [7, 42, 1234] as [UInt64] {
            var feed = RandomFeed(generator: SeededGenerator(seed: seed))
            var flushGenerator = SeededGenerator(seed: seed &+ 99)
            var book = OrderBook(symbol: "BTC/USDT")
            var conflator = DepthConflator()
            var client = ClientBook()
            var checked = 0
            for _ in 0..<3000 {
                let message = feed.next()
                guard let outcome = try? book.apply(message) else { continue }
                conflator.record(outcome, message)
                // Interval ends land at random points (at most `flushEvery` messages apart).
                guard flushEvery == 1 || flushGenerator.next(upperBound: UInt64(flushEvery)) == 0 else { continue }
                guard let emission = conflator.flush(book) else { continue }
                client.apply(emission, server: book)
                #expect(client.seq == book.seq)
                #expect(client.bids == Dictionary(uniqueKeysWithValues: book.bidLevels().map { ($0.price.text, $0) }))
                #expect(client.asks == Dictionary(uniqueKeysWithValues: book.askLevels().map { ($0.price.text, $0) }))
                #expect(client.checksum == book.checksum)
                checked += 1
            }
            #expect(checked > 50, "enough emissions were checked")
        }
    }

    @Test("while the book is stale nothing goes out; the next snapshot resyncs")
    func staleThenSnapshot() throws {
        var book = OrderBook(symbol: "BTC/USDT")
        var conflator = DepthConflator()
        let first = depth(.snapshot, 1, bids: [level("100", "1")], asks: [level("101", "1")])
        conflator.record(try book.apply(first), first)
        #expect(conflator.flush(book) == .snapshot(seq: 1))
        let skipped = depth(.delta, 3, bids: [level("100", "2")], asks: [])
        conflator.record(try book.apply(skipped), skipped)
        #expect(conflator.flush(book) == nil)
        let fresh = depth(.snapshot, 4, bids: [level("100", "5")], asks: [level("101", "1")])
        conflator.record(try book.apply(fresh), fresh)
        #expect(conflator.flush(book) == .snapshot(seq: 4))
        let change = depth(.delta, 5, bids: [level("100", "0"), level("99", "1")], asks: [])
        conflator.record(try book.apply(change), change)
        let more = depth(.delta, 6, bids: [level("99", "3")], asks: [])
        conflator.record(try book.apply(more), more)
        #expect(conflator.flush(book) == .delta(prevSeq: 4, seq: 6, bids: [level("100", "0"), level("99", "3")], asks: []))
        #expect(conflator.flush(book) == nil, "nothing new, nothing sent")
    }
}

@Suite("Depth conflation bound")
struct DepthConflatorBoundTests {
    @Test("an interval that merges more prices than the book keeps ends in a snapshot, not an ever larger delta")
    func boundedMerge() throws {
        var book = OrderBook(symbol: "BTC/USDT", maxLevels: 3)
        var conflator = DepthConflator(maxLevels: 3)
        let snapshot = depth(.snapshot, 1, bids: [level("99", "1")], asks: [])
        conflator.record(try book.apply(snapshot), snapshot)
        #expect(conflator.flush(book) == .snapshot(seq: 1))
        // Two deltas: four distinct prices in one interval, past the 3 the book keeps.
        let first = depth(.delta, 2, bids: [level("98", "1"), level("97", "1")], asks: [])
        conflator.record(try book.apply(first), first)
        let second = depth(.delta, 3, bids: [level("96", "1"), level("95", "1")], asks: [])
        conflator.record(try book.apply(second), second)
        #expect(conflator.flush(book) == .snapshot(seq: 3))
        // Below the bound, a merged delta as before.
        let third = depth(.delta, 4, bids: [level("98", "2")], asks: [])
        conflator.record(try book.apply(third), third)
        #expect(conflator.flush(book) == .delta(prevSeq: 3, seq: 4, bids: [level("98", "2")], asks: []))
    }
}
