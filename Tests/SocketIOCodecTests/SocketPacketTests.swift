import NIOCore
import Testing
@testable import SocketIOCodec

@Suite("Socket.IO packets")
struct SocketPacketTests {
    @Test("golden packets from the protocol spec decode and re-encode byte for byte", arguments: [
        "0", #"0{"token":"123"}"#, "0/admin,", #"0/prices,{}"#, #"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"#,
        #"4{"message":"Not authorized"}"#, #"4/admin,{"message":"Not authorized","data":{"code":42}}"#,
        #"2["hey","Jude"]"#, #"2/admin,["bar"]"#, #"212["foo"]"#, #"2/admin,12["foo"]"#,
        #"312["bar"]"#, #"3/admin,13["bar"]"#, "3456[]", "1", "1/admin,", #"20["first ack id is zero"]"#,
    ])
    func golden(text: String) throws {
        let packet = try SocketPacket.decode(text)
        #expect(packet.encode().text == text)
    }

    @Test("the namespace comma is optional on input and always written")
    func optionalComma() throws {
        let connect = try SocketPacket.decode("0/custom")
        #expect(connect.namespace == "/custom")
        #expect(connect.encode().text == "0/custom,")
        #expect(try SocketPacket.decode("1/custom").namespace == "/custom")
        #expect(try SocketPacket.decode("0/,").namespace == "/")
        #expect(try SocketPacket.decode(#"0/,{"token":"x"}"#).data == .object(["token": "x"]))
    }

    @Test("fields decode into their parts")
    func fields() throws {
        let packet = try SocketPacket.decode(#"2/admin,12["foo",1,{"a":true}]"#)
        #expect(packet.type == .event)
        #expect(packet.namespace == "/admin")
        #expect(packet.ackID == 12)
        #expect(packet.eventName == "foo")
        #expect(packet.eventArguments == [.number("1"), .object(["a": true])])
    }

    @Test("binary events: header, attachments matched by num, re-encoded with placeholders")
    func binaryEvent() throws {
        let header = try SocketPacket.decode(#"52-["baz",{"num":1,"_placeholder":true},{"_placeholder":true,"num":0}]"#)
        #expect(header.type == .binaryEvent)
        #expect(header.attachmentCount == 2)
        var assembler = BinaryAssembler(header: header)
        #expect(try assembler.add(ByteBuffer(bytes: [1])) == nil)
        let packet = try #require(try assembler.add(ByteBuffer(bytes: [2])))
        #expect(packet.eventArguments == [.binary(ByteBuffer(bytes: [2])), .binary(ByteBuffer(bytes: [1]))])
        let encoded = packet.encode()
        #expect(encoded.text == #"52-["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
        #expect(encoded.attachments == [ByteBuffer(bytes: [2]), ByteBuffer(bytes: [1])])
    }

    @Test("data with buffers is promoted to BINARY_EVENT / BINARY_ACK")
    func promotion() {
        let event = SocketPacket.event("file", [.binary(ByteBuffer(bytes: [9]))], namespace: "/admin", ackID: 7).encode()
        #expect(event.text == #"51-/admin,7["file",{"_placeholder":true,"num":0}]"#)
        let ack = SocketPacket.ack([.binary(ByteBuffer(bytes: [9]))], ackID: 789).encode()
        #expect(ack.text == #"61-789[{"_placeholder":true,"num":0}]"#)
    }

    @Test("malformed packets are rejected with their own code", arguments: [
        ("", CodecError.Code.emptyPacket), ("abc", .unknownSocketPacketType), ("9", .unknownSocketPacketType),
        ("2{}", .invalidPayload), ("2abc[\"x\"]", .invalidJSON), ("2[]", .invalidPayload), ("2[{}]", .invalidPayload),
        (#"2["disconnect"]"#, .invalidPayload), ("0[1]", .invalidPayload), ("1{}", .invalidPayload),
        ("3[1]", .invalidAckID), ("3{}", .invalidPayload), ("5[\"x\"]", .invalidAttachmentCount),
        ("5a-[\"x\"]", .invalidAttachmentCount), ("511-[\"x\"]", .tooManyAttachments),
        ("2123456789012345678[\"x\"]", .invalidAckID), ("2/a\u{01}b,[\"x\"]", .invalidNamespace),
        ("4[1]", .invalidPayload),
    ])
    func malformed(text: String, code: CodecError.Code) {
        #expect(throws: CodecError(code, "")) { try SocketPacket.decode(text) }
    }

    @Test("bad placeholders and surplus attachments are refused")
    func badPlaceholders() throws {
        let outOfRange = try SocketPacket.decode(#"51-["x",{"_placeholder":true,"num":3}]"#)
        var assembler = BinaryAssembler(header: outOfRange)
        #expect(throws: CodecError(.invalidPlaceholder, "")) { try assembler.add(ByteBuffer(bytes: [1])) }

        let unused = try SocketPacket.decode(#"52-["x",{"_placeholder":true,"num":0}]"#)
        var second = BinaryAssembler(header: unused)
        _ = try second.add(ByteBuffer(bytes: [1]))
        #expect(throws: CodecError(.invalidPlaceholder, "")) { try second.add(ByteBuffer(bytes: [2])) }

        let shaped = try SocketPacket.decode(#"51-["x",{"_placeholder":"yes","num":0}]"#)
        var third = BinaryAssembler(header: shaped)
        #expect(throws: CodecError(.invalidPlaceholder, "")) { try third.add(ByteBuffer(bytes: [1])) }
    }

    @Test("the broadcast fast path matches the general encoder")
    func eventFastPath() {
        let fast = SocketPacket.eventText(namespace: "/prices", event: "price.update", payloadJSON: #"{"symbol":"BTC/USDT"}"#)
        let general = SocketPacket.event("price.update", [.object(["symbol": "BTC/USDT"])], namespace: "/prices").encode().text
        #expect(fast == general)
        #expect(fast == #"2/prices,["price.update",{"symbol":"BTC/USDT"}]"#)
    }
}
