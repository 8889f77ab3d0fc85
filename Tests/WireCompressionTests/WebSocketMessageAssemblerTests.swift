import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing
import WireCompression

@Suite("Client messages assembled and inflated")
struct WebSocketMessageAssemblerTests {
    static let hello: [UInt8] = [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]  // RFC 7692's "Hello"

    func channel(maxPayload: Int = 1000, inflates: Bool = true) -> EmbeddedChannel {
        EmbeddedChannel(handler: WebSocketMessageAssembler(maxPayload: maxPayload, inflater: inflates ? try! MessageInflater() : nil))
    }

    func frame(_ bytes: [UInt8], opcode: WebSocketOpcode = .text, fin: Bool = true, rsv1: Bool = false) -> WebSocketFrame {
        WebSocketFrame(fin: fin, rsv1: rsv1, opcode: opcode, data: ByteBuffer(bytes: bytes))
    }

    func failure(_ channel: EmbeddedChannel, _ frames: [WebSocketFrame]) -> WebSocketMessageAssembler.Failure? {
        do {
            for frame in frames { try channel.writeInbound(frame) }
        } catch let failure as WebSocketMessageAssembler.Failure {
            return failure
        } catch {
            return nil
        }
        return nil
    }

    @Test("a compressed message arrives plain, RSV1 cleared")
    func inflates() throws {
        let channel = channel()
        try channel.writeInbound(frame(Self.hello, rsv1: true))
        let message = try #require(try channel.readInbound(as: WebSocketFrame.self))
        #expect(String(buffer: message.data) == "Hello" && !message.rsv1 && message.fin)
    }

    @Test("a compressed message in three fragments (RSV1 on the first) is joined, then inflated")
    func fragmentedCompressed() throws {
        let channel = channel()
        try channel.writeInbound(frame(Array(Self.hello[0..<2]), fin: false, rsv1: true))
        #expect(try channel.readInbound(as: WebSocketFrame.self) == nil)
        try channel.writeInbound(frame(Array(Self.hello[2..<5]), opcode: .continuation, fin: false))
        try channel.writeInbound(frame(Array(Self.hello[5...]), opcode: .continuation))
        #expect(try channel.readInbound(as: WebSocketFrame.self).map { String(buffer: $0.data) } == "Hello")
    }

    @Test("plain fragments are joined; control frames in between pass at once")
    func plainFragments() throws {
        let channel = channel()
        try channel.writeInbound(frame(Array("4hel".utf8), fin: false))
        try channel.writeInbound(frame([], opcode: .ping))
        #expect(try channel.readInbound(as: WebSocketFrame.self)?.opcode == .ping)
        try channel.writeInbound(frame(Array("lo".utf8), opcode: .continuation))
        #expect(try channel.readInbound(as: WebSocketFrame.self).map { String(buffer: $0.data) } == "4hello")
    }

    @Test("a message inflating past maxPayload is too large (1009); so are fragments past it")
    func tooLarge() throws {
        var zeros = try MessageDeflater(level: 9).deflate(ByteBuffer(repeating: 0x34, count: 100_000))
        #expect(failure(channel(), [frame(Array(zeros.readBytes(length: zeros.readableBytes)!), rsv1: true)]) == .tooLarge)
        let parts = [frame(Array(repeating: 0x34, count: 600), fin: false), frame(Array(repeating: 0x34, count: 600), opcode: .continuation)]
        #expect(failure(channel(), parts) == .tooLarge)
        #expect(WebSocketMessageAssembler.Failure.tooLarge.closeCode == 1009)
    }

    @Test("bytes that do not inflate close with 1007")
    func corrupt() {
        #expect(failure(channel(), [frame([0xFF, 0xFF, 0xFF, 0xFF], rsv1: true)]) == .badCompressedData)
        #expect(WebSocketMessageAssembler.Failure.badCompressedData.closeCode == 1007)
    }

    @Test("protocol errors close with 1002", arguments: [
        "RSV1 without the extension", "RSV1 on a continuation", "a continuation first", "a new message before the last ended", "RSV1 on a ping",
    ])
    func protocolErrors(_ what: String) {
        let cases: [String: (Bool, [WebSocketFrame])] = [
            "RSV1 without the extension": (false, [frame(Self.hello, rsv1: true)]),
            "RSV1 on a continuation": (true, [frame([0x34], fin: false), frame([0x35], opcode: .continuation, rsv1: true)]),
            "a continuation first": (true, [frame([0x34], opcode: .continuation)]),
            "a new message before the last ended": (true, [frame([0x34], fin: false), frame([0x34])]),
            "RSV1 on a ping": (true, [frame([], opcode: .ping, rsv1: true)]),
        ]
        let (inflates, frames) = cases[what]!
        #expect(failure(channel(inflates: inflates), frames) == .protocolError, "\(what)")
    }

    @Test("after the first failure nothing more is read or reported (the connection is closing)")
    func stopsAfterFailure() throws {
        let channel = channel()
        #expect(failure(channel, [frame([0x34], opcode: .continuation)]) == .protocolError)
        try channel.writeInbound(frame(Array("4hello".utf8)))
        try channel.writeInbound(frame([0x35], opcode: .continuation))
        #expect(try channel.readInbound(as: WebSocketFrame.self) == nil)
    }

    @Test("more than 1024 fragments is a protocol error")
    func tooManyFragments() {
        let frames = [frame([0x34], fin: false)] + Array(repeating: frame([], opcode: .continuation, fin: false), count: WebSocketMessageAssembler.maxFragments)
        #expect(failure(channel(), frames) == .protocolError)
    }
}
