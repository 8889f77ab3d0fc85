import NIOCore
import Testing
@testable import SocketIOCodec

@Suite("Engine.IO packets")
struct EnginePacketTests {
    @Test("every packet type encodes to its golden text", arguments: [
        (EnginePacket.close, "1"), (.ping(""), "2"), (.ping("probe"), "2probe"), (.pong("probe"), "3probe"),
        (.message("hello"), "4hello"), (.upgrade, "5"), (.noop, "6"), (.open("{}"), "0{}"),
    ])
    func golden(packet: EnginePacket, text: String) throws {
        #expect(packet.encodedText == text)
        #expect(try EnginePacket.decode(text: text) == packet)
    }

    @Test("binary messages travel as b<base64> in text form")
    func binaryText() throws {
        let packet = EnginePacket.binaryMessage(ByteBuffer(bytes: [1, 2, 3, 4]))
        #expect(packet.encodedText == "bAQIDBA==")
        #expect(try EnginePacket.decode(text: "bAQIDBA==") == packet)
        #expect(try EnginePacket.decode(text: "b") == .binaryMessage(ByteBuffer()))
        #expect(try EnginePacket.decode(text: "bAQI=") == .binaryMessage(ByteBuffer(bytes: [1, 2])))
    }

    @Test("base64 round trips every length")
    func base64Lengths() throws {
        for length in 0..<20 {
            let bytes = (0..<length).map { UInt8(($0 * 37) & 0xFF) }
            let text = EnginePacket.binaryMessage(ByteBuffer(bytes: bytes)).encodedText
            #expect(try EnginePacket.decode(text: text) == .binaryMessage(ByteBuffer(bytes: bytes)))
        }
    }

    @Test("malformed packets are rejected with their own code", arguments: [
        ("", CodecError.Code.emptyPacket), ("abc", .unknownEnginePacketType), ("7", .unknownEnginePacketType),
        ("b!!!!", .invalidBase64), ("bAQ", .invalidBase64), ("bA=QI", .invalidBase64),
    ])
    func malformed(text: String, code: CodecError.Code) {
        #expect(throws: CodecError(code, "")) { try EnginePacket.decode(text: text) }
    }

    @Test("the open packet holds exactly the five handshake keys")
    func handshake() {
        let open = Handshake(sid: "abc", upgrades: ["websocket"], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1_000_000)
        #expect(open.packet.encodedText == #"0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#)
    }
}

@Suite("Polling payloads")
struct PollingPayloadTests {
    @Test("packets are split on the record separator")
    func decode() throws {
        let body = ByteBuffer(string: "4hello\u{1e}2\u{1e}4world\u{1e}bAQIDBA==")
        let packets = try PollingPayload.decode(body)
        #expect(packets == [.message("hello"), .ping(""), .message("world"), .binaryMessage(ByteBuffer(bytes: [1, 2, 3, 4]))])
    }

    @Test("encoding joins packets with the record separator and nothing else")
    func encode() {
        var buffer = ByteBuffer()
        PollingPayload.encode([.message("test1"), .message("test2"), .binaryMessage(ByteBuffer(bytes: [1, 2, 3, 4]))], into: &buffer)
        #expect(String(buffer: buffer) == "4test1\u{1e}4test2\u{1e}bAQIDBA==")
    }

    @Test("a bad record anywhere rejects the whole payload")
    func badRecord() {
        #expect(throws: CodecError(.unknownEnginePacketType, "")) { try PollingPayload.decode(ByteBuffer(string: "4ok\u{1e}abc")) }
        #expect(throws: CodecError(.emptyPacket, "")) { try PollingPayload.decode(ByteBuffer(string: "4ok\u{1e}")) }
        #expect(throws: CodecError(.emptyPacket, "")) { try PollingPayload.decode(ByteBuffer()) }
    }

    @Test("the packet count is capped")
    func cap() {
        let body = ByteBuffer(string: Array(repeating: "6", count: 20).joined(separator: "\u{1e}"))
        #expect(throws: CodecError(.tooManyPackets, "")) { try PollingPayload.decode(body, maximumPackets: 16) }
    }
}
