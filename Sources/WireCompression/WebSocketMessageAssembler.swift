import NIOCore
import NIOWebSocket

/// Joins a client's fragmented messages (RFC 6455 §5.4) and inflates compressed ones (RFC 7692),
/// so the Engine.IO handler sees whole, plain messages. Both are bounded by `maxPayload`: the
/// fragments' bytes as they arrive, and what a compressed message inflates to (a zip bomb stops
/// there). NIO's aggregator drops RSV1 from fragmented messages, hence this handler. Used by the
/// gateway's edge and by the Swift client alike.
public final class WebSocketMessageAssembler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = WebSocketFrame
    public typealias InboundOut = WebSocketFrame

    /// Why a connection is closed, with the close code it gets.
    public enum Failure: Error, Equatable {
        /// 1009: the message (fragments together, or inflated) is larger than `maxPayload`.
        case tooLarge
        /// 1007: a compressed message that does not inflate.
        case badCompressedData
        /// 1002: RSV bits without a negotiated extension, a continuation without a start, a new
        /// message before the last one ended, too many fragments.
        case protocolError
        /// 1011: zlib could not run here (out of memory); not the peer's fault.
        case unavailable

        public var closeCode: UInt16 {
            switch self {
            case .tooLarge: 1009
            case .badCompressedData: 1007
            case .protocolError: 1002
            case .unavailable: 1011
            }
        }
    }

    public static let maxFragments = 1024

    private let maxPayload: Int
    /// Where compressed messages are inflated; nil when permessage-deflate was not negotiated
    /// (RSV1 is then a protocol error). The gateway passes its event-loop thread's inflater,
    /// shared by that thread's connections (no context takeover; a channel never changes
    /// thread); a client passes one of its own.
    private let inflater: MessageInflater?
    private var inflates: Bool { inflater != nil }
    private var message: (opcode: WebSocketOpcode, compressed: Bool, data: ByteBuffer, fragments: Int)?
    /// After the first failure the connection is closing: nothing more is read or reported.
    private var failed = false

    public init(maxPayload: Int, inflater: MessageInflater?) {
        self.maxPayload = maxPayload
        self.inflater = inflater
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        let frame = unwrapInboundIn(data)
        do {
            if let whole = try assemble(frame) { context.fireChannelRead(wrapInboundOut(whole)) }
        } catch {
            message = nil
            failed = true
            context.fireErrorCaught(error)
        }
    }

    private func assemble(_ frame: WebSocketFrame) throws(Failure) -> WebSocketFrame? {
        guard !frame.rsv2, !frame.rsv3 else { throw .protocolError }
        switch frame.opcode {
        case .text, .binary:
            guard message == nil else { throw .protocolError }
            guard !frame.rsv1 || inflates else { throw .protocolError }
            if frame.fin { return try whole(frame.opcode, compressed: frame.rsv1, frame.unmaskedData) }
            message = (frame.opcode, frame.rsv1, frame.unmaskedData, 1)
            return nil
        case .continuation:
            guard var started = message, !frame.rsv1 else { throw .protocolError }
            started.fragments += 1
            guard started.fragments <= Self.maxFragments else { throw .protocolError }
            guard started.data.readableBytes + frame.length <= maxPayload else { throw .tooLarge }
            message = nil  // the buffer is uniquely referenced while it grows
            var part = frame.unmaskedData
            started.data.writeBuffer(&part)
            guard frame.fin else {
                message = started
                return nil
            }
            return try whole(started.opcode, compressed: started.compressed, started.data)
        default:
            // Control frames (ping, pong, close) are never fragmented nor compressed (§5.5).
            guard !frame.rsv1 else { throw .protocolError }
            return frame
        }
    }

    private func whole(_ opcode: WebSocketOpcode, compressed: Bool, _ data: ByteBuffer) throws(Failure) -> WebSocketFrame {
        guard compressed else { return WebSocketFrame(fin: true, opcode: opcode, data: data) }
        do {
            let inflated = try inflater!.inflate(data, limit: maxPayload)
            return WebSocketFrame(fin: true, opcode: opcode, data: inflated)
        } catch .tooLarge {
            throw .tooLarge
        } catch .unavailable {
            throw .unavailable
        } catch {
            throw .badCompressedData
        }
    }
}

@available(*, unavailable)
extension WebSocketMessageAssembler: Sendable {}
