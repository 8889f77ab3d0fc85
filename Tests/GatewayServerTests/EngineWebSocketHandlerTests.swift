import GatewayCore
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import GatewayServer

@Suite("The Engine.IO WebSocket handler on an embedded channel")
struct EngineWebSocketHandlerTests {
    @Test("a text frame reaches the session, whose answer comes back as one unmasked FIN text frame")
    func textRoundTrip() throws {
        let harness = EdgeHarness()
        let (channel, _, _) = try harness.webSocketClient()
        try channel.writeInbound(WebSocketFrame.text("4hello"))
        harness.loop.run()
        let frames = try harness.frames(channel)
        #expect(frames.map(\.text) == ["4hello"])
        #expect(frames.allSatisfy { $0.fin && $0.opcode == 0x1 })
    }

    @Test("a binary frame is an Engine.IO binary message and comes back as a binary frame")
    func binaryRoundTrip() throws {
        let harness = EdgeHarness()
        let (channel, _, _) = try harness.webSocketClient()
        try channel.writeInbound(WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(bytes: [1, 2, 3])))
        harness.loop.run()
        let frames = try harness.frames(channel)
        #expect(frames.count == 1 && frames[0].opcode == 0x2 && Array(frames[0].payload.readableBytesView) == [1, 2, 3])
    }

    @Test("a WebSocket ping is answered with a pong carrying its payload; the session is not involved")
    func webSocketPing() throws {
        let harness = EdgeHarness()
        let (channel, session, _) = try harness.webSocketClient()
        try channel.writeInbound(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(string: "are you there")))
        let frames = try harness.frames(channel)
        #expect(frames.count == 1 && frames[0].opcode == 0xA && frames[0].text == "are you there")
        #expect(!session.isClosed)
    }

    @Test("a text frame that is no Engine.IO packet closes the session with a parse error and a normal close frame")
    func malformed() throws {
        let harness = EdgeHarness()
        let (channel, session, handler) = try harness.webSocketClient()
        try channel.writeInbound(WebSocketFrame.text("x-not-a-packet"))
        harness.loop.run()
        #expect(session.isClosed && handler.closeReason == .parseError)
        #expect(try harness.frames(channel).last?.closeCode == 1000)
        #expect(harness.engine.session(session.sid) == nil, "the sid is forgotten")
    }

    @Test("the client's close frame is answered with 1000 and ends the session as a transport close")
    func clientClose() throws {
        let harness = EdgeHarness()
        let (channel, session, handler) = try harness.webSocketClient()
        try channel.writeInbound(WebSocketFrame(fin: true, opcode: .connectionClose, data: ByteBuffer(bytes: [0x03, 0xE8])))
        harness.loop.run()
        #expect(try harness.frames(channel).first?.closeCode == 1000)
        #expect(!channel.isActive)
        #expect(session.isClosed && handler.closeReason == .transportClose)
    }

    @Test("an oversized message is answered with close code 1009, after what the session sent; the session ends as payload too large")
    func tooLarge() throws {
        let harness = EdgeHarness()
        let (channel, session, handler) = try harness.webSocketClient()
        session.send(text: "4sent before")
        channel.pipeline.fireErrorCaught(NIOWebSocketError.invalidFrameLength)
        harness.loop.run()
        let frames = try harness.frames(channel)
        #expect(frames.map(\.text).first == "4sent before", "what was sent goes out first")
        #expect(frames.compactMap(\.closeCode) == [1009], "exactly one close frame, the edge's")
        #expect(session.isClosed && handler.closeReason == .payloadTooLarge)
    }

    @Test("other protocol errors are answered with close code 1002")
    func protocolError() throws {
        let harness = EdgeHarness()
        let (channel, _, _) = try harness.webSocketClient()
        channel.pipeline.fireErrorCaught(NIOWebSocketError.multiByteControlFrameLength)
        #expect(try harness.frames(channel).last?.closeCode == 1002)
    }

    @Test("a connection that goes away ends the session at once, with nothing written")
    func connectionGone() throws {
        let harness = EdgeHarness()
        let (channel, session, handler) = try harness.webSocketClient()
        channel.pipeline.fireChannelInactive()
        harness.loop.run()
        #expect(session.isClosed && handler.closeReason == .transportClose)
        #expect(try harness.frames(channel).isEmpty)
    }

    @Test("frames held while the socket was not writable go out, in order, when it is again")
    func writability() throws {
        let harness = EdgeHarness()
        let (channel, session, _) = try harness.webSocketClient()
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        for index in 0..<3 { session.send(text: "4m\(index)") }
        harness.loop.run()
        #expect(try harness.frames(channel).isEmpty, "held back")
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        harness.loop.run()
        #expect(try harness.frames(channel).map(\.text) == ["4m0", "4m1", "4m2"])
    }

    @Test("a session closed by the server writes what it queued, then a normal close frame, then closes the connection")
    func serverClose() throws {
        let harness = EdgeHarness()
        let (channel, session, _) = try harness.webSocketClient()
        session.send(text: "4last words")
        session.close(reason: .serverShuttingDown)
        harness.loop.run()
        let frames = try harness.frames(channel)
        #expect(frames.map(\.text).first == "4last words")
        #expect(frames.last?.closeCode == 1000)
        #expect(!channel.isActive)
    }
}
