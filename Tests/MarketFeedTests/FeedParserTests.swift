import MarketFeed
import Testing

@Suite("Feed message validation")
struct FeedParserTests {
    let parser = FeedParser(symbols: ["BTC/USDT", "ETH/USDT"])

    @Test("a tick keeps numbers and decimal strings as given, and a fractional ts unchanged")
    func tick() throws {
        let message = try parser.parse(text: #"{"type":"tick","symbol":"BTC/USDT","price":"64000.10","bid":63999.9,"ask":"64000.20","volume":12.5,"ts":1718000000123.456}"#)
        guard case .tick(let tick) = message else { Issue.record("not a tick"); return }
        #expect(tick.price.json == .string("64000.10"))
        #expect(tick.bid.json == .number("63999.9"))
        #expect(tick.ts == .number("1718000000123.456"))
    }

    @Test("depth snapshots and deltas parse with their levels")
    func depth() throws {
        let message = try parser.parse(text: #"{"type":"depth","symbol":"ETH/USDT","kind":"delta","seq":42,"bids":[["3000.5","0"]],"asks":[[3001,"1.25"]],"ts":1}"#)
        guard case .depth(let depth) = message else { Issue.record("not depth"); return }
        #expect(depth.kind == .delta && depth.seq == 42 && depth.bids.count == 1 && depth.asks[0].qty.text == "1.25")
    }

    @Test("bad messages are refused with a reason naming the problem", arguments: [
        (#"not json"#, FeedError.Reason.invalidJSON),
        (#"[1]"#, .invalidField),
        (#"{"symbol":"BTC/USDT"}"#, .missingField),
        (#"{"type":"candle","symbol":"BTC/USDT"}"#, .unknownType),
        (#"{"type":"tick","symbol":"DOGE/EUR","price":1,"bid":1,"ask":1,"volume":1,"ts":1}"#, .unknownSymbol),
        (#"{"type":"tick","symbol":"BTC/USDT","price":"1e5","bid":1,"ask":1,"volume":1,"ts":1}"#, .invalidField),
        (#"{"type":"tick","symbol":"BTC/USDT","price":"abc","bid":1,"ask":1,"volume":1,"ts":1}"#, .invalidField),
        (#"{"type":"tick","symbol":"BTC/USDT","price":1,"bid":1,"ask":1,"volume":1}"#, .missingField),
        (#"{"type":"tick","symbol":"BTC/USDT","price":1,"bid":1,"ask":1,"volume":1,"ts":"now"}"#, .invalidField),
        (#"{"type":"trade","symbol":"BTC/USDT","tradeId":7,"price":1,"qty":1,"side":"hold","ts":1}"#, .invalidField),
        (#"{"type":"depth","symbol":"BTC/USDT","kind":"delta","seq":-1,"bids":[],"asks":[],"ts":1}"#, .invalidField),
        (#"{"type":"depth","symbol":"BTC/USDT","kind":"delta","seq":1,"bids":[[1]],"asks":[],"ts":1}"#, .invalidField),
        (#"{"type":"depth","symbol":"BTC/USDT","kind":"delta","seq":1,"bids":[[0,1]],"asks":[],"ts":1}"#, .invalidField),
        (#"{"type":"status","symbol":"BTC/USDT","status":"closed","ts":1}"#, .invalidField),
    ])
    func refused(text: String, reason: FeedError.Reason) {
        #expect {
            try parser.parse(text: text)
        } throws: { error in
            guard let error = error as? FeedError else { return false }
            return error.reason == reason && !error.message.isEmpty
        }
    }
}

