import GatewayCore
import NIOCore
import SocketIOCodec

/// A session's ``FrameWriter`` on a NIO channel. When the socket lives on the session's own
/// event loop (every WebSocket-only session) the session's joined frames are written through
/// the Engine.IO handler's context: no pipeline walk, no generic wrapping, no hop. A socket on
/// another loop (an upgrade accepted elsewhere) is written through the channel, which hops.
public final class ChannelFrameWriter: FrameWriter, @unchecked Sendable {
    public let channel: any Channel
    private var context: ChannelHandlerContext?
    /// Writability as the handler last saw it; read instead of the channel's atomic on the
    /// broadcast path when the socket is on the session's loop.
    private var writable = true
    /// The socket negotiated permessage-deflate.
    public let deflatesMessages: Bool

    public init(channel: any Channel, deflatesMessages: Bool = false) {
        self.channel = channel
        self.deflatesMessages = deflatesMessages
    }

    /// Called by the edge handler in `handlerAdded` (on the channel's loop). The context is
    /// only used when the session runs on that same loop.
    func attach(_ context: ChannelHandlerContext, sessionLoop: any EventLoop) {
        self.context = sessionLoop === context.eventLoop ? context : nil
    }

    func detach() {
        context = nil
    }

    /// Called by the edge handler from `channelWritabilityChanged`.
    func writabilityChanged(_ isWritable: Bool) {
        writable = isWritable
    }

    /// Writes from the session's loop (sent at the next ``flush()``): one buffer per flush, the
    /// session's frames already joined.
    public func write(_ buffer: ByteBuffer) {
        if let context {
            context.write(NIOAny(buffer), promise: nil)
        } else {
            channel.write(buffer, promise: nil)
        }
    }

    public func flush() {
        if let context {
            context.flush()
        } else {
            channel.flush()
        }
    }

    public var isWritable: Bool { context != nil ? writable : channel.isWritable }

    public func closeGracefully() {
        flush()
        let channel = channel
        channel.writeAndFlush(WebSocketFrameHeader.closeFrame(code: 1000, allocator: channel.allocator)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    public func abort() { channel.close(promise: nil) }
}

/// A NIO channel as the engine's ``PollingConnection``.
public struct ChannelPollingConnection: PollingConnection {
    let channel: any Channel

    public init(channel: any Channel) {
        self.channel = channel
    }

    public var id: ObjectIdentifier { ObjectIdentifier(channel) }
    public var isOpen: Bool { channel.isActive }

    public func whenClosed(_ body: @escaping @Sendable () -> Void) {
        channel.closeFuture.whenComplete { _ in body() }
    }
}
