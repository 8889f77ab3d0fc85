import GatewayJSON
import MarketFeed
import Testing

@testable import Namespaces

/// `price.update` is written byte by byte for speed; it must stay the text the serializer gives
/// for the same object, whatever JSON form the feed used (symbols needing escapes: see
/// DepthDeltaJSONTests, which share the writer).
@Suite struct PriceUpdateJSONTests {
    @Test("the same text as JSONSerializer: decimal strings and numbers, any number form of ts",
          arguments: ["1718000000123", "1718000000123.456", "1.718e12"])
    func sameAsSerializer(ts: String) throws {
        let parser = FeedParser(symbols: ["BTC/USDT"])
        let text = #"{"type":"tick","symbol":"BTC/USDT","price":"64000.10","bid":63999.5,"ask":1e3,"volume":"-0","ts":"# + ts + "}"
        guard case .tick(let tick) = try parser.parse(text: text) else {
            Issue.record("not a tick")
            return
        }
        let expected = JSONSerializer.serialize(.object([
            "symbol": .string(tick.symbol), "price": tick.price.json, "bid": tick.bid.json, "ask": tick.ask.json,
            "volume": tick.volume.json, "ts": tick.ts, "seq": 42,
        ]))
        #expect(MarketPayloads.priceUpdate(tick, seq: 42) == expected)
    }
}
