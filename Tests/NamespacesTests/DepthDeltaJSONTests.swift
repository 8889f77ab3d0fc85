import GatewayJSON
import MarketFeed
import Testing

@testable import Namespaces

/// The delta payload is written byte by byte for speed; it must stay the text the serializer
/// gives for the same object, whatever JSON form the feed used.
@Suite struct DepthDeltaJSONTests {
    private func level(_ price: JSONValue, _ qty: JSONValue) -> BookLevel {
        BookLevel(price: DecimalText(price)!, qty: DecimalText(qty)!)
    }

    private func serialized(symbol: String, bids: [BookLevel], asks: [BookLevel], ts: JSONValue) -> String {
        JSONSerializer.serialize(.object([
            "symbol": .string(symbol), "type": "delta", "seq": .number("18446744073709551615"), "prevSeq": .number("7"),
            "bids": .array(bids.map(\.json)), "asks": .array(asks.map(\.json)), "checksum": .number("4294967295"), "ts": ts,
        ]))
    }

    @Test("the same text as JSONSerializer: decimal strings and numbers, empty sides, any ts, a symbol that needs escaping",
          arguments: [
              ("BTC/USDT", JSONValue.number("1718000000123.456")),
              ("ETH/USDT", JSONValue.string("1718000000123")),
              ("A\"B/\\C\u{01}", JSONValue.null),
              // Each character that needs escaping on its own, non-ASCII, and ts of every kind.
              ("A\"B", JSONValue.bool(true)),
              ("A\\B", JSONValue.array([.number("1"), .string("x")])),
              ("A\u{01}B", JSONValue.object(["ms": .number("1")])),
              ("BTC/ÜSD", JSONValue.string("a\"b")),
          ])
    func sameAsSerializer(symbol: String, ts: JSONValue) {
        let bids = [level("64000.10", "0"), level(.number("63999.5"), .number("1e3")), level("-0", "12")]
        for (bids, asks) in [(bids, [level(.number("64001"), "2.5")]), ([], [])] {
            let written = DepthDeltaJSON.encode(symbol: symbol, seq: .max, prevSeq: 7, bids: bids, asks: asks, checksum: .max, ts: ts)
            #expect(written == serialized(symbol: symbol, bids: bids, asks: asks, ts: ts))
        }
    }
}
