import GatewayJSON

/// Builds a market payload straight into UTF-8 bytes, giving the same text `JSONSerializer`
/// gives for the equivalent object without building a `JSONValue` tree and appending to a
/// `String` piece by piece. Used for the payloads every feed message makes (ticks, deltas).
struct PayloadWriter {
    private var bytes: [UInt8] = []

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    /// Literal JSON text (punctuation and keys), as is.
    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func byte(_ ascii: Unicode.Scalar) {
        bytes.append(UInt8(ascii: ascii))
    }

    mutating func integer(_ value: some BinaryInteger) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// A number as written, a string that needs no escaping (every decimal string and symbol)
    /// between quotes; anything else through the serializer (a `ts` could be any value).
    mutating func value(_ value: JSONValue) {
        switch value {
        case .number(let text):
            bytes.append(contentsOf: text.utf8)
        case .string(let text) where !JSONSerializer.needsEscaping(text):
            bytes.append(UInt8(ascii: "\""))
            bytes.append(contentsOf: text.utf8)
            bytes.append(UInt8(ascii: "\""))
        default:
            bytes.append(contentsOf: JSONSerializer.serialize(value).utf8)
        }
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }
}
