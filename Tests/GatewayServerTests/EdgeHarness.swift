import GatewayCore
import GatewayMetrics
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOWebSocket

@testable import GatewayServer

/// Echoes every message back and records how the session ended.
final class EchoHandler: EngineMessageHandler, @unchecked Sendable {
    private(set) var closeReason: DisconnectReason?

    func sessionOpened(_ session: EngineSession) {}
    func received(text: String, on session: EngineSession) { session.send(text: "4" + text) }
    func received(binary: ByteBuffer, on session: EngineSession) { session.send(EncodedFrame(binary: binary)) }
    func sessionClosed(_ session: EngineSession, reason: DisconnectReason) { closeReason = reason }
}

/// An engine on one embedded loop whose WebSocket sessions sit behind the real edge handler
/// on an EmbeddedChannel: frames in with `writeInbound`, bytes out with `readOutbound`.
struct EdgeHarness {
    let loop = EmbeddedEventLoop()
    let metrics = GatewayMetrics()
    let engine: EngineServer
    let handlers = NIOLockedValueBox<[EchoHandler]>([])

    init(configuration: EngineConfiguration = EngineConfiguration()) {
        let handlers = handlers
        engine = EngineServer(
            configuration: configuration, loops: LoopContexts(group: loop), metrics: metrics, logger: Logger(label: "test")
        ) { _ in
            let handler = EchoHandler()
            handlers.withLockedValue { $0.append(handler) }
            return handler
        }
    }

    /// A WebSocket-only session behind `EngineWebSocketHandler`; the open packet is read off.
    func webSocketClient() throws -> (EmbeddedChannel, EngineSession, EchoHandler) {
        let channel = EmbeddedChannel(loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let writer = ChannelFrameWriter(channel: channel)
        guard let session = engine.makeWebSocketSession(writer: writer, on: loop, handshake: HandshakeInfo(remoteAddress: "127.0.0.1")) else {
            throw HarnessError.refused
        }
        try channel.pipeline.syncOperations.addHandler(EngineWebSocketHandler(session: session, writer: writer))
        engine.startWebSocketSession(session, writer: writer)
        loop.run()
        let open = try frames(channel)
        guard open.count == 1, open[0].text.hasPrefix("0{") else { throw HarnessError.noOpenPacket }
        return (channel, session, handlers.withLockedValue { $0.last! })
    }

    enum HarnessError: Error { case refused, noOpenPacket }

    /// The frames written to `channel` (a loop tick's frames arrive joined in one write).
    func frames(_ channel: EmbeddedChannel) throws -> [ServerFrame] {
        var out: [ServerFrame] = []
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            while buffer.readableBytes >= 2 {
                let first = buffer.readInteger(as: UInt8.self)!
                let short = Int(buffer.readInteger(as: UInt8.self)! & 0x7F)
                let length = short == 127 ? Int(buffer.readInteger(as: UInt64.self)!) : short == 126 ? Int(buffer.readInteger(as: UInt16.self)!) : short
                out.append(ServerFrame(fin: first & 0x80 != 0, opcode: first & 0x0F, payload: buffer.readSlice(length: length)!))
            }
        }
        return out
    }
}

/// One server-to-client frame as a client would parse it.
struct ServerFrame {
    let fin: Bool
    let opcode: UInt8
    let payload: ByteBuffer

    var text: String { String(buffer: payload) }
    /// The status code of a close frame.
    var closeCode: UInt16? { opcode == 0x8 ? payload.getInteger(at: payload.readerIndex, as: UInt16.self) : nil }
}

extension WebSocketFrame {
    static func text(_ text: String) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text))
    }
}
