import GatewayJSON
import MarketFeed

/// The `market.depth` delta payload written straight into UTF-8 bytes: the same text
/// `JSONSerializer` gives for the equivalent object, without building a `JSONValue` tree and
/// appending to a `String` piece by piece (most of the book path's cost per delta before).
enum DepthDeltaJSON {
    static func encode(symbol: String, seq: UInt64, prevSeq: UInt64, bids: [BookLevel], asks: [BookLevel], checksum: UInt32, ts: JSONValue) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(128 + 28 * (bids.count + asks.count))
        bytes.append(contentsOf: #"{"symbol":"#.utf8)
        append(.string(symbol), to: &bytes)
        bytes.append(contentsOf: #","type":"delta","seq":"#.utf8)
        bytes.append(contentsOf: String(seq).utf8)
        bytes.append(contentsOf: #","prevSeq":"#.utf8)
        bytes.append(contentsOf: String(prevSeq).utf8)
        bytes.append(contentsOf: #","bids":"#.utf8)
        append(bids, to: &bytes)
        bytes.append(contentsOf: #","asks":"#.utf8)
        append(asks, to: &bytes)
        bytes.append(contentsOf: #","checksum":"#.utf8)
        bytes.append(contentsOf: String(checksum).utf8)
        bytes.append(contentsOf: #","ts":"#.utf8)
        append(ts, to: &bytes)
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `[[price,qty],…]`, each in the JSON form the feed gave.
    private static func append(_ levels: [BookLevel], to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "["))
        for (position, level) in levels.enumerated() {
            if position > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "["))
            append(level.price.json, to: &bytes)
            bytes.append(UInt8(ascii: ","))
            append(level.qty.json, to: &bytes)
            bytes.append(UInt8(ascii: "]"))
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// A number as written, a string that needs no escaping (every decimal string) between
    /// quotes; anything else through the serializer (a `ts` could be any value).
    private static func append(_ value: JSONValue, to bytes: inout [UInt8]) {
        switch value {
        case .number(let text):
            bytes.append(contentsOf: text.utf8)
        case .string(let text) where !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }):
            bytes.append(UInt8(ascii: "\""))
            bytes.append(contentsOf: text.utf8)
            bytes.append(UInt8(ascii: "\""))
        default:
            bytes.append(contentsOf: JSONSerializer.serialize(value).utf8)
        }
    }
}
