import GatewayCore
import NIOCore
import NIOWebSocket
import SocketIOCodec
import WireCompression

/// The last handler of an upgraded connection: turns WebSocket frames into Engine.IO packets
/// for its session. Synchronous and loop-confined; outbound traffic does not pass through it:
/// sessions write pre-encoded frames (ByteBuffers) straight to the channel.
final class EngineWebSocketHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame

    private let session: EngineSession
    private let writer: ChannelFrameWriter
    private var closing = false

    init(session: EngineSession, writer: ChannelFrameWriter) {
        self.session = session
        self.writer = writer
    }

    func handlerAdded(context: ChannelHandlerContext) {
        writer.attach(context, sessionLoop: session.eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        writer.detach()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let channel = writer
        let session = session
        switch frame.opcode {
        case .text:
            do {
                let packet = try EnginePacket.decode(textFrame: frame.unmaskedData)
                session.execute { session.webSocketReceived(packet, from: channel) }
            } catch {
                session.execute { session.webSocketMalformed(error, from: channel) }
            }
        case .binary:
            let packet = EnginePacket.binaryMessage(frame.unmaskedData)
            session.execute { session.webSocketReceived(packet, from: channel) }
        case .ping:
            var pong = context.channel.allocator.buffer(capacity: frame.length + 2)
            var payload = frame.unmaskedData
            WebSocketFrameHeader.write(.pong, length: payload.readableBytes, into: &pong)
            pong.writeBuffer(&payload)
            context.writeAndFlush(NIOAny(pong), promise: nil)
        case .connectionClose:
            close(context: context, code: 1000)
        default:
            break
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writer.writabilityChanged(context.channel.isWritable)
        if context.channel.isWritable {
            let channel = writer
            let session = session
            session.execute { session.webSocketWritable(channel) }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let channel = writer
        let session = session
        session.execute { session.webSocketClosed(channel) }
        context.fireChannelInactive()
    }

    /// A client that shut its side down has left: nothing more can arrive, so the session ends
    /// now rather than when a heartbeat finds out (the channel refuses half-closure anyway).
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let channel = writer
        let session = session
        let code: UInt16
        switch error {
        case NIOWebSocketError.invalidFrameLength:
            code = 1009
            session.execute { session.webSocketTooLarge(from: channel) }
        case let failure as WebSocketMessageAssembler.Failure:
            code = failure.closeCode
            if failure == .tooLarge {
                session.execute { session.webSocketTooLarge(from: channel) }
            } else if failure != .unavailable {
                session.execute { session.webSocketFrameRefused() }
            }
        default:
            code = 1002  // a frame the decoder refused, a reset, a TLS error: not counted as the client's packet
        }
        // 1009: message too big; 1007: a compressed message that does not inflate; 1002: protocol
        // error; 1011: the gateway could not inflate (zlib unavailable).
        close(context: context, code: code)
    }

    private func close(context: ChannelHandlerContext, code: UInt16) {
        guard !closing else { return }
        closing = true
        session.flushWritesIfOnLoop()  // frames the session wrote go before the close frame
        let frame = WebSocketFrameHeader.closeFrame(code: code, allocator: context.channel.allocator)
        context.writeAndFlushThenClose(NIOAny(frame))
    }
}

@available(*, unavailable)
extension EngineWebSocketHandler: Sendable {}
