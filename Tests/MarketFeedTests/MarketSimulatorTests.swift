import GatewayJSON
import MarketFeed
import Testing

@Suite("Market simulator")
struct MarketSimulatorTests {
    /// Runs `steps` ticks into order books, as the gateway would.
    func books(seed: UInt64, steps: Int) throws -> (books: [String: OrderBook], messages: [FeedMessage]) {
        var simulator = MarketSimulator(symbols: ["BTC/USDT", "XRP/USDT"], seed: seed)
        var books: [String: OrderBook] = [:]
        var all = simulator.snapshots(now: 0)
        for step in 0..<steps { all += simulator.step(now: Double(step)) }
        for case .depth(let depth) in all {
            var book = books[depth.symbol] ?? OrderBook(symbol: depth.symbol)
            let outcome = try book.apply(depth)
            if case .gap = outcome { Issue.record("the simulator's deltas always chain") }
            books[depth.symbol] = book
        }
        return (books, all)
    }

    @Test("the same seed gives the same market")
    func deterministic() throws {
        #expect(try books(seed: 9, steps: 500).messages == books(seed: 9, steps: 500).messages)
        #expect(try books(seed: 9, steps: 500).messages != books(seed: 10, steps: 500).messages)
    }

    @Test("after a long random walk the book is still a book: never crossed, at most 50 levels a side")
    func bookStaysSane() throws {
        for (symbol, book) in try books(seed: 3, steps: 20_000).books {
            let bids = book.bidLevels()
            let asks = book.askLevels()
            #expect(bids.count <= MarketSimulator.levels && asks.count <= MarketSimulator.levels, "\(symbol)")
            #expect(bids.count >= 10 && asks.count >= 10, "\(symbol) keeps depth")
            if let best = bids.first, let ask = asks.first {
                #expect(best.price.value < ask.price.value, "\(symbol) is not crossed")
            }
        }
    }
}

@Suite("Market simulator output")
struct MarketSimulatorWireFormTests {
    @Test("every simulated message is exactly what the strict feed parser makes of its wire form")
    func validByTheParser() throws {
        let symbols = ["BTC/USDT", "ETH/USDT", "XRP/USDT"]
        let parser = FeedParser(symbols: symbols)
        var simulator = MarketSimulator(symbols: symbols, seed: 5)
        var messages = simulator.snapshots(now: 1_718_000_000_000)
        for step in 0..<3_000 { messages += simulator.step(now: 1_718_000_000_000 + Double(step)) }
        #expect(Set(messages.map(\.type)) == ["tick", "trade", "depth", "ticker", "stats"])
        for message in messages {
            #expect(try parser.parse(text: JSONSerializer.serialize(message.json)) == message)
        }
    }
}
