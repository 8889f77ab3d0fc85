import GatewayJSON
import NIOCore

/// Reads MessagePack into a ``JSONValue``: integers and floats become number text, bin becomes
/// `.binary`, maps need string keys. Bounded like the JSON parser: 64 levels deep, no length is
/// believed past the bytes that are actually there (a 4-byte header cannot ask for 4 GB), and at
/// most 100,000 values a message (a one-byte `nil` must not cost forty bytes a million times).
/// Extension types (timestamps, …) are refused: nothing in Socket.IO uses them. Pure.
public enum MessagePackReader {
    public static let maximumDepth = 64
    public static let maximumValues = 100_000

    /// The one value `bytes` holds, all of it.
    public static func read(_ bytes: ByteBuffer) throws(CodecError) -> JSONValue {
        var input = bytes
        var budget = maximumValues
        let value = try readValue(&input, depth: 0, budget: &budget)
        guard input.readableBytes == 0 else { throw failure("\(input.readableBytes) bytes after the value") }
        return value
    }

    static func failure(_ detail: String) -> CodecError { CodecError(.invalidMessagePack, detail) }

    private static func readValue(_ input: inout ByteBuffer, depth: Int, budget: inout Int) throws(CodecError) -> JSONValue {
        guard depth < maximumDepth else { throw failure("nesting deeper than \(maximumDepth)") }
        budget -= 1
        guard budget >= 0 else { throw failure("more than \(maximumValues) values") }
        guard let code = input.readInteger(as: UInt8.self) else { throw failure("the data ends early") }
        switch code {
        case 0x00...0x7F: return .number(String(code))
        case 0x80...0x8F: return try readMap(&input, count: Int(code & 0x0F), depth: depth, budget: &budget)
        case 0x90...0x9F: return try readArray(&input, count: Int(code & 0x0F), depth: depth, budget: &budget)
        case 0xA0...0xBF: return .string(try readString(&input, length: Int(code & 0x1F)))
        case 0xC0: return .null
        case 0xC2: return .bool(false)
        case 0xC3: return .bool(true)
        case 0xC4: return .binary(try readBytes(&input, length: Int(try integer(&input, as: UInt8.self))))
        case 0xC5: return .binary(try readBytes(&input, length: Int(try integer(&input, as: UInt16.self))))
        case 0xC6: return .binary(try readBytes(&input, length: Int(try integer(&input, as: UInt32.self))))
        case 0xCA: return try float(Double(Float(bitPattern: try integer(&input, as: UInt32.self))))
        case 0xCB: return try float(Double(bitPattern: try integer(&input, as: UInt64.self)))
        case 0xCC: return .number(String(try integer(&input, as: UInt8.self)))
        case 0xCD: return .number(String(try integer(&input, as: UInt16.self)))
        case 0xCE: return .number(String(try integer(&input, as: UInt32.self)))
        case 0xCF: return .number(String(try integer(&input, as: UInt64.self)))
        case 0xD0: return .number(String(try integer(&input, as: Int8.self)))
        case 0xD1: return .number(String(try integer(&input, as: Int16.self)))
        case 0xD2: return .number(String(try integer(&input, as: Int32.self)))
        case 0xD3: return .number(String(try integer(&input, as: Int64.self)))
        case 0xD9: return .string(try readString(&input, length: Int(try integer(&input, as: UInt8.self))))
        case 0xDA: return .string(try readString(&input, length: Int(try integer(&input, as: UInt16.self))))
        case 0xDB: return .string(try readString(&input, length: Int(try integer(&input, as: UInt32.self))))
        case 0xDC: return try readArray(&input, count: Int(try integer(&input, as: UInt16.self)), depth: depth, budget: &budget)
        case 0xDD: return try readArray(&input, count: Int(try integer(&input, as: UInt32.self)), depth: depth, budget: &budget)
        case 0xDE: return try readMap(&input, count: Int(try integer(&input, as: UInt16.self)), depth: depth, budget: &budget)
        case 0xDF: return try readMap(&input, count: Int(try integer(&input, as: UInt32.self)), depth: depth, budget: &budget)
        case 0xE0...0xFF: return .number(String(Int8(bitPattern: code)))
        case 0xC1: throw failure("0xc1 is never used")
        default: throw failure("extension type 0x\(String(code, radix: 16)) is not supported")
        }
    }

    private static func integer<T: FixedWidthInteger>(_ input: inout ByteBuffer, as type: T.Type) throws(CodecError) -> T {
        guard let value = input.readInteger(as: T.self) else { throw failure("the data ends early") }
        return value
    }

    private static func float(_ value: Double) throws(CodecError) -> JSONValue {
        guard value.isFinite else { throw failure("NaN and infinities have no JSON form") }
        // Whole floats keep a fraction so that they read back as floats ("2.0", not "2").
        return .number(value == value.rounded() && abs(value) < 1e15 ? String(format: value) : "\(value)")
    }

    private static func readBytes(_ input: inout ByteBuffer, length: Int) throws(CodecError) -> ByteBuffer {
        guard let bytes = input.readSlice(length: length) else { throw failure("a length of \(length) runs past the data") }
        return bytes
    }

    private static func readString(_ input: inout ByteBuffer, length: Int) throws(CodecError) -> String {
        let bytes = try readBytes(&input, length: length)
        guard let text = bytes.withUnsafeReadableBytes({ String(validating: $0, as: UTF8.self) }) else {
            throw failure("a string is not UTF-8")
        }
        return text
    }

    private static func readArray(_ input: inout ByteBuffer, count: Int, depth: Int, budget: inout Int) throws(CodecError) -> JSONValue {
        // Every element takes at least one byte: a count past the bytes left is a lie.
        guard count <= input.readableBytes else { throw failure("an array of \(count) runs past the data") }
        var items: [JSONValue] = []
        items.reserveCapacity(min(count, 1024))
        for _ in 0..<count { items.append(try readValue(&input, depth: depth + 1, budget: &budget)) }
        return .array(items)
    }

    private static func readMap(_ input: inout ByteBuffer, count: Int, depth: Int, budget: inout Int) throws(CodecError) -> JSONValue {
        guard count * 2 <= input.readableBytes else { throw failure("a map of \(count) runs past the data") }
        var members: [JSONMember] = []
        members.reserveCapacity(min(count, 1024))
        for _ in 0..<count {
            guard case .string(let key) = try readValue(&input, depth: depth + 1, budget: &budget) else { throw failure("map keys must be strings") }
            members.append(JSONMember(key, try readValue(&input, depth: depth + 1, budget: &budget)))
        }
        return .object(members)
    }
}

extension String {
    /// A whole float written with one decimal ("2.0"), as JSON writers do for floats.
    fileprivate init(format value: Double) {
        self = "\(Int64(value)).0"
    }
}
