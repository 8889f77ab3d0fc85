import NIOCore

/// Where a WebSocket session's frames go: the edge's side of a socket (GatewayServer's
/// `ChannelFrameWriter` on a NIO channel). The session hands it complete frames, encoded once
/// per broadcast (``EncodedFrame``), and never sees the channel, its pipeline or the framing of
/// control frames. Every call is made on the session's event loop.
public protocol FrameWriter: AnyObject, Sendable {
    /// False while the socket's send buffer is above its high watermark; the session then
    /// queues, and drains when the edge reports the socket writable again.
    var isWritable: Bool { get }
    /// The socket negotiated permessage-deflate: messages over the threshold go compressed.
    var deflatesMessages: Bool { get }
    /// Queues complete frames (the session joins a tick's frames into one buffer); they are sent
    /// at the next ``flush()`` at the latest.
    func write(_ frames: ByteBuffer)
    func flush()
    /// Sends what was written, then a normal close frame (1000), then closes the connection.
    func closeGracefully()
    /// Closes the connection at once; what was not sent is dropped.
    func abort()
}

extension FrameWriter {
    public var deflatesMessages: Bool { false }
}

/// The HTTP connection a long-polling GET arrived on, as the session sees it: an identity, and
/// a notice when it closes (a client that hangs up during a held GET has left).
public protocol PollingConnection: Sendable {
    /// The same for every request of one connection.
    var id: ObjectIdentifier { get }
    var isOpen: Bool { get }
    /// Runs `body` once when the connection closes (at once when it already has).
    func whenClosed(_ body: @escaping @Sendable () -> Void)
}
