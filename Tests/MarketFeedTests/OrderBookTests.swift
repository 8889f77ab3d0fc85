import GatewayJSON
import MarketFeed
import Testing

func level(_ price: String, _ qty: String) -> BookLevel {
    BookLevel(price: DecimalText(.string(price))!, qty: DecimalText(.string(qty))!)
}

func depth(_ kind: FeedMessage.Depth.Kind, _ seq: UInt64, bids: [BookLevel], asks: [BookLevel]) -> FeedMessage.Depth {
    let parser = FeedParser(symbols: ["BTC/USDT"])
    let json = JSONValue.object([
        "type": "depth", "symbol": "BTC/USDT", "kind": .string(kind.rawValue), "seq": .int(Int(seq)),
        "bids": .array(bids.map(\.json)), "asks": .array(asks.map(\.json)), "ts": 1,
    ])
    guard case .depth(let message) = try! parser.parse(json) else { fatalError() }
    return message
}

@Suite("Order books")
struct OrderBookTests {
    @Test("CRC32 is the IEEE one")
    func crc() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        // Contiguous storage (small and native strings) and plain sequences agree.
        #expect(CRC32.checksum("123456789".utf8) == 0xCBF4_3926)
        #expect(CRC32.checksum(AnySequence(Array("123456789".utf8))) == 0xCBF4_3926)
        var running = CRC32.Running()
        running.add("12345".utf8)
        running.add(AnySequence(Array("6789".utf8)))
        #expect(running.value == 0xCBF4_3926)
    }

    @Test("a snapshot then chained deltas; quantity 0 removes a level")
    func chain() throws {
        var book = OrderBook(symbol: "BTC/USDT")
        #expect(try book.apply(depth(.snapshot, 10, bids: [level("100", "1"), level("99.5", "2")], asks: [level("101", "3")])) == .snapshot)
        #expect(try book.apply(depth(.delta, 11, bids: [level("100", "0"), level("99", "5")], asks: [level("101.5", "1")])) == .delta(prevSeq: 10))
        #expect(book.bidLevels().map(\.price.text) == ["99.5", "99"])
        #expect(book.askLevels().map(\.price.text) == ["101", "101.5"])
        #expect(book.seq == 11 && !book.isStale)
    }

    @Test("a gap marks the book stale until the next snapshot; old sequences are refused")
    func gaps() throws {
        var book = OrderBook(symbol: "BTC/USDT")
        #expect(try book.apply(depth(.delta, 5, bids: [], asks: [])) == .gap(expected: nil, got: 5))
        _ = try book.apply(depth(.snapshot, 10, bids: [level("100", "1")], asks: []))
        #expect { try book.apply(depth(.delta, 10, bids: [], asks: [])) } throws: { ($0 as? FeedError)?.reason == .staleSequence }
        #expect(try book.apply(depth(.delta, 12, bids: [], asks: [])) == .gap(expected: 11, got: 12))
        #expect(book.isStale)
        #expect(try book.apply(depth(.delta, 13, bids: [], asks: [])) == .gap(expected: nil, got: 13))
        #expect(try book.apply(depth(.snapshot, 20, bids: [level("100", "2")], asks: [])) == .snapshot)
        #expect(!book.isStale)
        #expect(try book.apply(depth(.delta, 21, bids: [], asks: [])) == .delta(prevSeq: 20))
    }

    @Test("the checksum covers the top 10 levels in the feed's own strings")
    func checksum() throws {
        var book = OrderBook(symbol: "BTC/USDT")
        let bids = (0..<12).map { level("\(100 - $0).0", "1.\($0)") }
        let asks = (0..<3).map { level("\(101 + $0)", "2") }
        _ = try book.apply(depth(.snapshot, 1, bids: bids, asks: asks))
        var text = ""
        for index in 0..<10 {
            text += "\(100 - index).0:1.\(index):"
            if index < 3 { text += "\(101 + index):2:" }
        }
        #expect(book.checksum == CRC32.checksum(Array(text.utf8)))
    }

    @Test("random streams: the book always equals a plain model of the same updates", arguments: [1, 2, 3, 4, 5])
    func randomStreams(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        var book = OrderBook(symbol: "BTC/USDT")
        var model: [String: [String: String]] = ["bids": [:], "asks": [:]]
        var seq: UInt64 = 100
        _ = try book.apply(depth(.snapshot, seq, bids: [], asks: []))
        for _ in 0..<500 {
            seq += 1
            var bids: [BookLevel] = []
            var asks: [BookLevel] = []
            for _ in 0..<Int(random.next() % 4) {
                let isBid = random.next() % 2 == 0
                let price = isBid ? "\(90 + random.next() % 10).\(random.next() % 4)" : "\(101 + random.next() % 10).\(random.next() % 4)"
                let qty = random.next() % 3 == 0 ? "0" : "\(random.next() % 50).5"
                if isBid { bids.append(level(price, qty)) } else { asks.append(level(price, qty)) }
                model[isBid ? "bids" : "asks"]![price] = qty == "0" ? nil : qty
            }
            #expect(try book.apply(depth(.delta, seq, bids: bids, asks: asks)) == .delta(prevSeq: seq - 1))
        }
        let modelBids = model["bids"]!.sorted { Double($0.key)! > Double($1.key)! }.map { "\($0.key):\($0.value)" }
        let modelAsks = model["asks"]!.sorted { Double($0.key)! < Double($1.key)! }.map { "\($0.key):\($0.value)" }
        #expect(book.bidLevels().map { "\($0.price.text):\($0.qty.text)" } == modelBids)
        #expect(book.askLevels().map { "\($0.price.text):\($0.qty.text)" } == modelAsks)
    }
}


@Suite("Order book depth bound")
struct OrderBookBoundTests {
    @Test("a snapshot keeps the best maxLevels per side and counts the rest as dropped")
    func snapshotBound() throws {
        var book = OrderBook(symbol: "BTC/USDT", maxLevels: 3)
        let bids = (1...10).map { level("\(100 - $0)", "1") }
        let asks = (1...10).map { level("\(200 + $0)", "1") }
        _ = try book.apply(depth(.snapshot, 1, bids: bids, asks: asks))
        #expect(book.bidLevels().map(\.price.text) == ["99", "98", "97"])
        #expect(book.askLevels().map(\.price.text) == ["201", "202", "203"])
        #expect(book.droppedLevels == 14)
    }

    @Test("a better level pushes out the worst; a level past the bound is dropped; removals make room")
    func deltaBound() throws {
        var book = OrderBook(symbol: "BTC/USDT", maxLevels: 3)
        _ = try book.apply(depth(.snapshot, 1, bids: [level("99", "1"), level("98", "1"), level("97", "1")], asks: []))
        _ = try book.apply(depth(.delta, 2, bids: [level("99.5", "1"), level("50", "1")], asks: []))
        #expect(book.bidLevels().map(\.price.text) == ["99.5", "99", "98"])
        #expect(book.droppedLevels == 2)
        _ = try book.apply(depth(.delta, 3, bids: [level("99", "0"), level("60", "1")], asks: []))
        #expect(book.bidLevels().map(\.price.text) == ["99.5", "98", "60"])
    }
}
