import MarketFeed
import Testing

@Suite("Replay files")
struct ReplayFileTests {
    let parser = FeedParser(symbols: ["BTC/USDT"])

    @Test("lines become timed messages; bad lines are skipped and reported with their number")
    func parse() {
        let text = """
            # a comment
            {"type":"tick","symbol":"BTC/USDT","price":"1","bid":"1","ask":"2","volume":"0","ts":1000}
            not json
            {"type":"tick","symbol":"ETH/USDT","price":"1","bid":"1","ask":"2","volume":"0","ts":1100}

            {"type":"trade","symbol":"BTC/USDT","tradeId":"t1","price":"1","qty":"2","side":"buy","ts":1250.5}
            """
        let file = ReplayFile(text: text, parser: parser)
        #expect(file.entries.map(\.offsetMs) == [0, 250.5])
        #expect(file.entries.map(\.message.type) == ["tick", "trade"])
        #expect(file.rejected.map(\.line) == [3, 4])
        #expect(file.rejected.map(\.error.reason) == [.invalidJSON, .unknownSymbol])
    }
}
