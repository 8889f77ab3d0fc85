import GatewayJSON
import MarketFeed

/// The `market.depth` delta payload written straight into UTF-8 bytes (``PayloadWriter``):
/// building a `JSONValue` tree and serializing it was most of the book path's cost per delta.
enum DepthDeltaJSON {
    /// `depth`: the levels a depth-N subscriber holds (written only for those).
    static func encode(
        symbol: String, seq: UInt64, prevSeq: UInt64, bids: [BookLevel], asks: [BookLevel], depth: Int? = nil, checksum: UInt32, ts: JSONValue
    ) -> String {
        var payload = PayloadWriter(capacity: 128 + 28 * (bids.count + asks.count))
        payload.raw(#"{"symbol":"#)
        payload.value(.string(symbol))
        payload.raw(#","type":"delta","seq":"#)
        payload.integer(seq)
        payload.raw(#","prevSeq":"#)
        payload.integer(prevSeq)
        payload.raw(#","bids":"#)
        append(bids, to: &payload)
        payload.raw(#","asks":"#)
        append(asks, to: &payload)
        if let depth {
            payload.raw(#","depth":"#)
            payload.integer(UInt64(depth))
        }
        payload.raw(#","checksum":"#)
        payload.integer(checksum)
        payload.raw(#","ts":"#)
        payload.value(ts)
        payload.byte("}")
        return payload.text
    }

    /// `[[price,qty],…]`, each in the JSON form the feed gave.
    private static func append(_ levels: [BookLevel], to payload: inout PayloadWriter) {
        payload.byte("[")
        for (position, level) in levels.enumerated() {
            if position > 0 { payload.byte(",") }
            payload.byte("[")
            payload.value(level.price.json)
            payload.byte(",")
            payload.value(level.qty.json)
            payload.byte("]")
        }
        payload.byte("]")
    }
}
