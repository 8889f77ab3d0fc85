import GatewayJSON
import NIOCore

/// Writes a ``JSONValue`` as MessagePack (the spec at msgpack.org), the way
/// notepack.io (socket.io-msgpack-parser) and Python's msgpack do: the smallest form of each
/// integer, float64 for other numbers, str for strings, bin for binary values. Pure.
public enum MessagePackWriter {
    public static func write(_ value: JSONValue, into buffer: inout ByteBuffer) throws(CodecError) {
        switch value {
        case .null: buffer.writeInteger(UInt8(0xC0))
        case .bool(let flag): buffer.writeInteger(UInt8(flag ? 0xC3 : 0xC2))
        case .number(let text): try writeNumber(text, into: &buffer)
        case .string(let text): writeString(text, into: &buffer)
        case .binary(let bytes):
            writeLength(bytes.readableBytes, small: nil, codes: (0xC4, 0xC5, 0xC6), into: &buffer)
            buffer.writeImmutableBuffer(bytes)
        case .array(let items):
            writeLength(items.count, small: 0x90, codes: (nil, 0xDC, 0xDD), into: &buffer)
            for item in items { try write(item, into: &buffer) }
        case .object(let members):
            writeLength(members.count, small: 0x80, codes: (nil, 0xDE, 0xDF), into: &buffer)
            for member in members {
                writeString(member.key, into: &buffer)
                try write(member.value, into: &buffer)
            }
        case .fragment(let json):
            // Pre-serialised JSON (a payload built once as text): parsed, then written.
            do {
                try write(try JSONParser.parse(json), into: &buffer)
            } catch {
                throw CodecError(.invalidJSON, "a JSON fragment could not be read: \(error)")
            }
        }
    }

    public static func writeString(_ text: String, into buffer: inout ByteBuffer) {
        let length = text.utf8.count
        if length < 32 {
            buffer.writeInteger(UInt8(0xA0 | length))
        } else {
            writeLength(length, small: nil, codes: (0xD9, 0xDA, 0xDB), into: &buffer)
        }
        buffer.writeString(text)
    }

    /// The header of a str/bin/array/map: `small` is the fix form's base (lengths under 32 for
    /// str, 16 for array and map), then 8-, 16- and 32-bit length forms.
    private static func writeLength(_ length: Int, small: UInt8?, codes: (UInt8?, UInt8, UInt8), into buffer: inout ByteBuffer) {
        if let small, length < (small == 0xA0 ? 32 : 16) {
            buffer.writeInteger(small | UInt8(length))
        } else if let code8 = codes.0, length <= Int(UInt8.max) {
            buffer.writeInteger(code8)
            buffer.writeInteger(UInt8(length))
        } else if length <= Int(UInt16.max) {
            buffer.writeInteger(codes.1)
            buffer.writeInteger(UInt16(length))
        } else {
            buffer.writeInteger(codes.2)
            buffer.writeInteger(UInt32(length))
        }
    }

    static func writeNumber(_ text: String, into buffer: inout ByteBuffer) throws(CodecError) {
        if let integer = Int64(text) {
            writeInteger(integer, into: &buffer)
        } else if let unsigned = UInt64(text) {
            buffer.writeInteger(UInt8(0xCF))
            buffer.writeInteger(unsigned)
        } else if let double = Double(text), double.isFinite {
            buffer.writeInteger(UInt8(0xCB))
            buffer.writeInteger(double.bitPattern)
        } else {
            throw CodecError(.invalidPayload, "\(text.prefix(32)) is not a number MessagePack can carry")
        }
    }

    static func writeUnsigned(_ value: UInt64, into buffer: inout ByteBuffer) {
        if value <= UInt64(Int64.max) { return writeInteger(Int64(value), into: &buffer) }
        buffer.writeInteger(UInt8(0xCF))
        buffer.writeInteger(value)
    }

    static func writeInteger(_ value: Int64, into buffer: inout ByteBuffer) {
        switch value {
        case 0...0x7F: buffer.writeInteger(UInt8(value))
        case -32 ..< 0: buffer.writeInteger(UInt8(bitPattern: Int8(value)))
        case 0...Int64(UInt8.max): buffer.writeInteger(UInt8(0xCC)); buffer.writeInteger(UInt8(value))
        case 0...Int64(UInt16.max): buffer.writeInteger(UInt8(0xCD)); buffer.writeInteger(UInt16(value))
        case 0...Int64(UInt32.max): buffer.writeInteger(UInt8(0xCE)); buffer.writeInteger(UInt32(value))
        case 0...: buffer.writeInteger(UInt8(0xCF)); buffer.writeInteger(UInt64(value))
        case Int64(Int8.min)...: buffer.writeInteger(UInt8(0xD0)); buffer.writeInteger(Int8(value))
        case Int64(Int16.min)...: buffer.writeInteger(UInt8(0xD1)); buffer.writeInteger(Int16(value))
        case Int64(Int32.min)...: buffer.writeInteger(UInt8(0xD2)); buffer.writeInteger(Int32(value))
        default: buffer.writeInteger(UInt8(0xD3)); buffer.writeInteger(value)
        }
    }
}
