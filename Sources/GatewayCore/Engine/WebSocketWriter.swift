import NIOCore

/// Where a session's WebSocket frames go. When the socket lives on the session's own event loop
/// (every WebSocket-only session) frames are written through the Engine.IO handler's context:
/// no pipeline walk, no generic wrapping, no hop. A socket on another loop (an upgrade accepted
/// elsewhere) is written through the channel, which hops for us.
public final class WebSocketWriter: @unchecked Sendable {
    public let channel: any Channel
    private var context: ChannelHandlerContext?
    /// Writability as the handler last saw it; read instead of the channel's atomic on the
    /// broadcast path when the socket is on the session's loop.
    private var writable = true

    public init(channel: any Channel) {
        self.channel = channel
    }

    /// Called by the edge handler in `handlerAdded` (on the channel's loop). The context is
    /// only used when the session runs on that same loop.
    public func attach(_ context: ChannelHandlerContext, sessionLoop: any EventLoop) {
        self.context = sessionLoop === context.eventLoop ? context : nil
    }

    public func detach() {
        context = nil
    }

    /// Called by the edge handler from `channelWritabilityChanged`.
    public func writabilityChanged(_ isWritable: Bool) {
        writable = isWritable
    }

    /// Writes from the session's loop.
    @inline(__always)
    func write(_ buffer: ByteBuffer) {
        if let context {
            context.write(NIOAny(buffer), promise: nil)
        } else {
            channel.write(buffer, promise: nil)
        }
    }

    func flush() {
        if let context {
            context.flush()
        } else {
            channel.flush()
        }
    }

    func writeAndFlush(_ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        channel.writeAndFlush(buffer)
    }

    var isWritable: Bool { context != nil ? writable : channel.isWritable }

    func close() { channel.close(promise: nil) }
}
