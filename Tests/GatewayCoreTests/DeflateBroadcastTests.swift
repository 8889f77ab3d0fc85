import GatewayCore
import GatewayServer
import NIOCore
import NIOEmbedded
import Testing
import WireCompression

/// permessage-deflate in the core: a broadcast is compressed once, before the fan-out, and the
/// same compressed buffer is written to every socket that negotiated it.
@Suite("Deflate broadcasts")
struct DeflateBroadcastTests {
    static let room = RoomKey(namespace: "/prices", name: "prices:BTC/USDT")
    static let large = #"{"levels":"# + String(repeating: "[\"64000.50\",\"1.25\"],", count: 100) + #""}"#

    /// A client whose writer negotiated deflate, counted as the edge counts it.
    func deflateClient(_ harness: Harness) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: harness.loop)
        let writer = ChannelFrameWriter(channel: channel, deflatesMessages: true)
        harness.broadcaster.loops.compression.deflateSocketOpened()
        let session = try #require(harness.engine.makeWebSocketSession(writer: writer, on: harness.loop, handshake: HandshakeInfo()))
        harness.engine.startWebSocketSession(session, writer: writer)
        session.webSocketReceived(.message("0/prices,"), from: writer)
        session.webSocketReceived(.message("2/prices,[\"join\",\"\(Self.room.name)\"]"), from: writer)
        harness.loop.run()
        _ = try harness.frames(channel)
        return channel
    }

    func inflated(_ frame: ByteBuffer) throws -> String {
        var frame = frame
        let header = frame.getInteger(at: frame.readerIndex + 1, as: UInt8.self)! & 0x7F == 126 ? 4 : 2
        frame.moveReaderIndex(forwardBy: header)
        return String(buffer: try MessageInflater().inflate(frame, limit: 1 << 20))
    }

    @Test("a large broadcast: one compressed buffer for every deflate socket, the plain frame for the rest")
    func compressedOnce() throws {
        let harness = Harness()
        let first = try deflateClient(harness)
        let second = try deflateClient(harness)
        let (plain, _, _) = try harness.client(joining: Self.room.name)
        harness.broadcaster.emit(to: Self.room, event: "price.update", payloadJSON: Self.large)
        harness.loop.run()
        let text = #"42/prices,["price.update","# + Self.large + "]"
        let a = try #require(try harness.frames(first).first)
        let b = try #require(try harness.frames(second).first)
        let c = try #require(try harness.frames(plain).first)
        #expect(a.getInteger(at: a.readerIndex, as: UInt8.self) == 0xC1, "FIN, RSV1, text")
        #expect(a.readableBytes < text.utf8.count / 4)
        #expect(try inflated(a) == text)
        // The same storage, not an equal copy: compressed once, before the fan-out.
        let same = a.withUnsafeReadableBytes { x in b.withUnsafeReadableBytes { y in x.baseAddress == y.baseAddress } }
        #expect(same)
        #expect(c == EncodedFrame(text: text).frame)
    }

    @Test("a message under the threshold goes plain to deflate sockets too")
    func smallStaysPlain() throws {
        let harness = Harness()
        let client = try deflateClient(harness)
        harness.broadcaster.emit(to: Self.room, event: "price.update", payloadJSON: #"{"price":"1"}"#)
        harness.loop.run()
        #expect(try harness.frames(client) == [EncodedFrame(text: #"42/prices,["price.update",{"price":"1"}]"#).frame])
    }

    @Test("nothing is compressed in advance while no socket negotiated deflate")
    func noDeflateSocketsNoWork() {
        let compression = FrameCompression()
        let message = OutboundMessage.event(namespace: "/prices", name: "price.update", payloadJSON: Self.large)
        #expect(compression.prepare(message).header.deflated == nil)
        compression.deflateSocketOpened()
        #expect(compression.prepare(message).header.deflated != nil)
        compression.deflateSocketClosed()
        #expect(compression.deflateSocketCount == 0)
        #expect(FrameCompression(settings: CompressionSettings(webSocket: false)).deflatedFrame(for: message.header) == nil)
    }

    @Test("a frame for one socket alone (an ack, a snapshot) is compressed for it")
    func unicastCompressed() throws {
        let harness = Harness()
        let channel = EmbeddedChannel(loop: harness.loop)
        let writer = ChannelFrameWriter(channel: channel, deflatesMessages: true)
        let session = try #require(harness.engine.makeWebSocketSession(writer: writer, on: harness.loop, handshake: HandshakeInfo()))
        harness.engine.startWebSocketSession(session, writer: writer)
        harness.loop.run()
        _ = try harness.frames(channel)
        session.send(text: "4" + Self.large)
        harness.loop.run()
        let frame = try #require(try harness.frames(channel).first)
        #expect(frame.getInteger(at: frame.readerIndex, as: UInt8.self) == 0xC1)
        #expect(try inflated(frame) == "4" + Self.large)
    }
}
