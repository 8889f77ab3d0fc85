import GatewayCore
import NIOCore
import SocketIOCodec

/// A session's ``FrameWriter`` on a NIO channel. When the socket lives on the session's own
/// event loop (every WebSocket-only session) frames are written through the Engine.IO
/// handler's context: no pipeline walk, no generic wrapping, no hop. A socket on another loop
/// (an upgrade accepted elsewhere) is written through the channel, which hops for us.
public final class ChannelFrameWriter: FrameWriter, @unchecked Sendable {
    public let channel: any Channel
    private var context: ChannelHandlerContext?
    /// Writability as the handler last saw it; read instead of the channel's atomic on the
    /// broadcast path when the socket is on the session's loop.
    private var writable = true
    /// Frames written since the last flush, joined so that a loop tick hands the socket one
    /// write: NIO's per-write pipeline walk and bookkeeping (retains, the pending-writes queue)
    /// were the largest cost of the fan-out profile at a million deliveries a second. A lone
    /// frame is kept by reference (no copy); a second one starts a buffer of the socket's own.
    private var pending: ByteBuffer?
    private var pendingIsShared = false
    /// Joined bytes past this go to the channel without waiting for the flush.
    static let pendingLimit = 64 * 1024

    public init(channel: any Channel) {
        self.channel = channel
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

    /// Writes from the session's loop (sent at the next ``flush()``). Mutates `pending` in
    /// place: this runs once per subscriber per message, and each copy of a buffer is a
    /// retain and a release.
    @inline(__always)
    public func write(_ buffer: ByteBuffer) {
        if pending == nil {
            pending = buffer
            pendingIsShared = true
            return
        }
        if pendingIsShared {
            var own = channel.allocator.buffer(capacity: max(4096, pending!.readableBytes + buffer.readableBytes))
            own.writeImmutableBuffer(pending!)
            pending = own
            pendingIsShared = false
        }
        pending!.writeImmutableBuffer(buffer)
        if pending!.readableBytes >= Self.pendingLimit { emitPending() }
    }

    private func emitPending() {
        guard let buffer = pending else { return }
        pending = nil
        if let context {
            context.write(NIOAny(buffer), promise: nil)
        } else {
            channel.write(buffer, promise: nil)
        }
    }

    public func flush() {
        emitPending()
        if let context {
            context.flush()
        } else {
            channel.flush()
        }
    }

    /// What the session wrote goes out, when called on the session's loop (the edge calls it
    /// before a close frame of its own, which must come last).
    func flushIfOnSessionLoop() {
        guard let context, context.eventLoop.inEventLoop else { return }
        flush()
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
