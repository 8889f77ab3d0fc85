import MarketFeed
import Testing

@Suite("Symbol catalog")
struct SymbolCatalogTests {
    /// The reason `body` was refused with, nil when it was not.
    func reason(_ body: () throws -> Void) -> FeedError.Reason? {
        do {
            try body()
            return nil
        } catch {
            return (error as? FeedError)?.reason
        }
    }

    @Test("a configured list knows exactly its symbols")
    func fixed() throws {
        let catalog = SymbolCatalog(symbols: ["BTC/USDT", "ETH/USDT"])
        #expect(!catalog.isLearning && catalog.known == ["BTC/USDT", "ETH/USDT"])
        try catalog.admit("BTC/USDT")
        #expect(reason { try catalog.admit("SOL/USDT") } == .unknownSymbol)
        #expect(!catalog.isKnown("SOL/USDT"))
    }

    @Test("learning: well-formed symbols are learned in order of first appearance, up to the maximum")
    func learning() throws {
        let catalog = SymbolCatalog(learningUpTo: 2)
        #expect(catalog.isLearning && catalog.known.isEmpty && !catalog.isKnown("BTC/USDT"))
        for bad in ["BTC", "BTC/", "/USDT", "btc usdt", "BTC/USDT/X", "ÄÖ/USDT", String(repeating: "A", count: 21) + "/USDT"] {
            #expect(reason { try catalog.admit(bad) } == .invalidField, "\(bad)")
        }
        try catalog.admit("ETH/USDT")
        try catalog.admit("btc/usdt")
        try catalog.admit("ETH/USDT")
        #expect(catalog.known == ["ETH/USDT", "btc/usdt"])
        #expect(reason { try catalog.admit("SOL/USDT") } == .unknownSymbol)
        #expect(catalog.isKnown("ETH/USDT") && !catalog.isKnown("SOL/USDT"))
    }

    @Test("idle learned symbols: forgotten unless pinned or named again; their place is free; a configured list never forgets")
    func idleSymbols() throws {
        let catalog = SymbolCatalog(learningUpTo: 3)
        for symbol in ["AAA/USD", "BBB/USD", "CCC/USD"] { try catalog.admit(symbol) }
        catalog.pin(["CCC/USD"])
        #expect(catalog.idle(for: 3600).isEmpty, "nothing has been quiet for an hour")
        #expect(Set(catalog.idle(for: 0)) == ["AAA/USD", "BBB/USD"], "pinned symbols are never idle")
        let forgotten = catalog.forget(["AAA/USD", "CCC/USD"], ifIdleFor: 0)
        #expect(forgotten == ["AAA/USD"])
        #expect(catalog.known == ["BBB/USD", "CCC/USD"])
        try catalog.admit("DDD/USD")  // AAA's place
        #expect(catalog.forget(["BBB/USD"], ifIdleFor: 3600).isEmpty, "named within the hour: kept")
        let fixed = SymbolCatalog(symbols: ["BTC/USDT"])
        #expect(fixed.idle(for: 0).isEmpty && fixed.forget(["BTC/USDT"], ifIdleFor: 0).isEmpty)
    }
}
