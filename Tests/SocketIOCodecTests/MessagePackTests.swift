import GatewayJSON
import NIOCore
import Testing
@testable import SocketIOCodec

@Suite("MessagePack packets (socket.io-msgpack-parser)")
struct MessagePackTests {
    func bytes(_ value: JSONValue) throws -> [UInt8] {
        var buffer = ByteBuffer()
        try MessagePackWriter.write(value, into: &buffer)
        return Array(buffer.readableBytesView)
    }

    @Test("values take their smallest MessagePack form", arguments: [
        (JSONValue.null, [0xC0] as [UInt8]), (.bool(true), [0xC3]), (.number("5"), [0x05]), (.number("-1"), [0xFF]),
        (.number("200"), [0xCC, 0xC8]), (.number("-200"), [0xD1, 0xFF, 0x38]), (.number("70000"), [0xCE, 0x00, 0x01, 0x11, 0x70]),
        (.number("1.5"), [0xCB, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0]), (.string("a"), [0xA1, 0x61]),
        (.array([.number("1"), .string("")]), [0x92, 0x01, 0xA0]), (.object([JSONMember("k", .null)]), [0x81, 0xA1, 0x6B, 0xC0]),
        (.binary(ByteBuffer(bytes: [1, 2])), [0xC4, 0x02, 0x01, 0x02]),
    ])
    func golden(value: JSONValue, expected: [UInt8]) throws {
        #expect(try bytes(value) == expected)
        #expect(try MessagePackReader.read(ByteBuffer(bytes: expected)) == value)
    }

    @Test("long strings, arrays and maps use their 8-, 16- and 32-bit length forms and read back")
    func lengths() throws {
        for length in [31, 32, 255, 256, 70_000] {
            let text = String(repeating: "x", count: length)
            #expect(try MessagePackReader.read(ByteBuffer(bytes: try bytes(.string(text)))) == .string(text))
            let array = JSONValue.array(Array(repeating: .number("1"), count: length))
            #expect(try MessagePackReader.read(ByteBuffer(bytes: try bytes(array))) == array)
        }
    }

    @Test("an event with an ack id is the map python-socketio and socket.io-msgpack-parser write")
    func eventPacket() throws {
        let packet = SocketPacket.event("subscribe", [.object([JSONMember("symbols", .array([.string("BTC/USDT")]))])], namespace: "/prices", ackID: 7)
        let encoded = try packet.encodeMessagePack()
        // {"type":2,"data":["subscribe",{"symbols":["BTC/USDT"]}],"nsp":"/prices","id":7}
        let expected: [UInt8] = [0x84, 0xA4] + Array("type".utf8) + [0x02, 0xA4] + Array("data".utf8)
            + [0x92, 0xA9] + Array("subscribe".utf8) + [0x81, 0xA7] + Array("symbols".utf8) + [0x91, 0xA8] + Array("BTC/USDT".utf8)
            + [0xA3] + Array("nsp".utf8) + [0xA7] + Array("/prices".utf8) + [0xA2] + Array("id".utf8) + [0x07]
        #expect(Array(encoded.readableBytesView) == expected)
        #expect(try SocketPacket.decode(messagePack: encoded) == packet)
    }

    @Test("a CONNECT with nil data, and binary data in place, read back; BINARY_EVENT is read as EVENT")
    func connectAndBinary() throws {
        var connect = ByteBuffer()
        try MessagePackWriter.write(.object([JSONMember("type", .number("0")), JSONMember("data", .null), JSONMember("nsp", .string("/user"))]), into: &connect)
        #expect(try SocketPacket.decode(messagePack: connect) == SocketPacket(type: .connect, namespace: "/user"))
        var binary = ByteBuffer()
        try MessagePackWriter.write(.object([
            JSONMember("type", .number("5")), JSONMember("nsp", .string("/")),
            JSONMember("data", .array([.string("upload"), .binary(ByteBuffer(bytes: [9, 9]))])),
        ]), into: &binary)
        let packet = try SocketPacket.decode(messagePack: binary)
        #expect(packet.type == .event && packet.eventArguments == [.binary(ByteBuffer(bytes: [9, 9]))])
    }

    @Test("JSON number text survives: integers as integers, prices kept as strings stay strings")
    func numbersAndFragments() throws {
        let payload = JSONValue.fragment(#"{"symbol":"BTC/USDT","price":"64000.50","ts":1765000000123,"x":-0.25}"#)
        let read = try MessagePackReader.read(ByteBuffer(bytes: try bytes(payload)))
        #expect(read == .object([
            JSONMember("symbol", .string("BTC/USDT")), JSONMember("price", .string("64000.50")),
            JSONMember("ts", .number("1765000000123")), JSONMember("x", .number("-0.25")),
        ]))
    }

    @Test("bad input is refused with a codec error, never a trap or a huge allocation", arguments: [
        [] as [UInt8], [0xC1], [0xD4, 0x01, 0x02], [0xDD, 0xFF, 0xFF, 0xFF, 0xFF], [0xDB, 0xFF, 0xFF, 0xFF, 0xFF, 0x61],
        [0x81, 0x01, 0x02], [0xA2, 0xFF, 0xFE], [0xCB, 0x7F, 0xF8, 0, 0, 0, 0, 0, 0], [0x01, 0x02],
    ])
    func refused(input: [UInt8]) {
        #expect(throws: CodecError.self) { try MessagePackReader.read(ByteBuffer(bytes: input)) }
    }

    @Test("more than 100,000 values is refused: a one-byte nil must not cost forty bytes a million times")
    func valueBudget() throws {
        var many = ByteBuffer(bytes: [0xDD])
        many.writeInteger(UInt32(200_000))
        many.writeRepeatingByte(0xC0, count: 200_000)
        #expect(throws: CodecError.self) { try MessagePackReader.read(many) }
        var enough = ByteBuffer(bytes: [0xDC])
        enough.writeInteger(UInt16(50_000))
        enough.writeRepeatingByte(0xC0, count: 50_000)
        #expect(try MessagePackReader.read(enough).arrayValue?.count == 50_000)
    }

    @Test("a namespace the text form could not carry (a comma ends it there) is refused")
    func namespaceWithComma() throws {
        var buffer = ByteBuffer()
        try MessagePackWriter.write(.object([JSONMember("type", .number("0")), JSONMember("nsp", .string("/a,b"))]), into: &buffer)
        #expect(throws: CodecError.self) { try SocketPacket.decode(messagePack: buffer) }
    }

    @Test("nesting past 64 levels is refused")
    func depth() {
        #expect(throws: CodecError.self) { try MessagePackReader.read(ByteBuffer(bytes: Array(repeating: 0x91, count: 100) + [0xC0])) }
    }

    @Test("packets that break socket.io-parser's rules are refused like their text form")
    func packetRules() throws {
        func packet(_ members: [JSONMember]) throws -> ByteBuffer {
            var buffer = ByteBuffer()
            try MessagePackWriter.write(.object(members), into: &buffer)
            return buffer
        }
        let nsp = JSONMember("nsp", .string("/"))
        for members in [
            [JSONMember("type", .number("9")), nsp],
            [JSONMember("type", .number("2")), nsp, JSONMember("data", .string("not an array"))],
            [JSONMember("type", .number("2")), nsp, JSONMember("data", .array([.string("disconnect")]))],
            [JSONMember("type", .number("3")), nsp, JSONMember("data", .array([]))],
            [JSONMember("type", .number("2")), JSONMember("data", .array([.string("e")]))],
            [JSONMember("type", .number("2")), JSONMember("nsp", .string("no-slash")), JSONMember("data", .array([.string("e")]))],
            [JSONMember("type", .number("2")), nsp, JSONMember("data", .array([.string("e")])), JSONMember("id", .number("-1"))],
        ] {
            #expect(throws: CodecError.self) { try SocketPacket.decode(messagePack: try packet(members)) }
        }
        #expect(throws: CodecError.self) { try SocketPacket.decode(messagePack: ByteBuffer(bytes: [0x93, 0x01, 0x02, 0x03])) }
    }
}
