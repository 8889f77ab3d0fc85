import GatewayJSON
import MarketFeed

/// The JSON of every server → client market event (SPEC §5), built once per feed message.
/// Prices and quantities keep the text the feed gave; `ts` passes through unchanged.
enum MarketPayloads {
    /// `seq`: the symbol's tick sequence (docs/market-data.md).
    static func priceUpdate(_ tick: FeedMessage.Tick, seq: UInt64) -> String {
        // Written as bytes (every tick makes one); the same text as serializing the object.
        var payload = PayloadWriter(capacity: 96 + tick.symbol.utf8.count)
        payload.raw(#"{"symbol":"#)
        payload.value(.string(tick.symbol))
        payload.raw(#","price":"#)
        payload.value(tick.price.json)
        payload.raw(#","bid":"#)
        payload.value(tick.bid.json)
        payload.raw(#","ask":"#)
        payload.value(tick.ask.json)
        payload.raw(#","volume":"#)
        payload.value(tick.volume.json)
        payload.raw(#","ts":"#)
        payload.value(tick.ts)
        payload.raw(#","seq":"#)
        payload.integer(seq)
        payload.byte("}")
        return payload.text
    }

    /// `price.trade` for `/prices` and `market.trades` for `/market`, from one trade; `seq`: the
    /// symbol's trade sequence, on the trade and (`market.trades`) on the message.
    static func trade(_ trade: FeedMessage.Trade, seq: UInt64) -> (priceTrade: String, marketTrades: String) {
        let number = JSONValue.number(String(seq))
        let fields: [JSONMember] = [
            JSONMember("tradeId", trade.tradeId), JSONMember("price", trade.price.json), JSONMember("qty", trade.qty.json),
            JSONMember("side", .string(trade.side)), JSONMember("ts", trade.ts), JSONMember("seq", number),
        ]
        return (
            JSONSerializer.serialize(.object([JSONMember("symbol", .string(trade.symbol))] + fields)),
            JSONSerializer.serialize(.object(["symbol": .string(trade.symbol), "seq": number, "trades": .array([.object(fields)])]))
        )
    }

    static func status(symbol: String, status: String, ts: JSONValue) -> String {
        JSONSerializer.serialize(.object(["symbol": .string(symbol), "status": .string(status), "ts": ts]))
    }

    static func depthDelta(symbol: String, seq: UInt64, prevSeq: UInt64, bids: [BookLevel], asks: [BookLevel], checksum: UInt32, ts: JSONValue) -> String {
        DepthDeltaJSON.encode(symbol: symbol, seq: seq, prevSeq: prevSeq, bids: bids, asks: asks, checksum: checksum, ts: ts)
    }

    static func depthSnapshot(_ book: OrderBook, ts: JSONValue) -> String {
        JSONSerializer.serialize(.object([
            "symbol": .string(book.symbol), "type": "snapshot", "seq": .number(String(book.seq ?? 0)), "prevSeq": .null,
            "bids": .array(book.bidLevels().map(\.json)), "asks": .array(book.askLevels().map(\.json)),
            "checksum": .number(String(book.checksum)), "ts": ts,
        ]))
    }
}
