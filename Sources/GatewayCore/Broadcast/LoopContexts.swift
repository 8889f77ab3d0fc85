import NIOCore

/// One ``LoopContext`` per event loop of the group: sessions find their loop's room index,
/// flush queue and timers here; the ``Broadcaster`` reaches every loop through it.
public struct LoopContexts: Sendable {
    public let all: [LoopContext]

    /// The process's wire compression and msgpack sessions, shared by every loop.
    public let compression: FrameCompression
    public let messagePack: MessagePackEncoding

    /// `flushInterval`: the least time between two flush rounds on one loop (0: every tick).
    public init(group: any EventLoopGroup, flushInterval: TimeAmount = .zero, compression: FrameCompression = FrameCompression()) {
        let messagePack = MessagePackEncoding()
        all = group.makeIterator().map {
            LoopContext(eventLoop: $0, flushInterval: flushInterval, compression: compression, messagePack: messagePack)
        }
        self.compression = compression
        self.messagePack = messagePack
    }

    /// A message in every form some session will want, each made once (before the fan-out).
    public func prepare(_ message: OutboundMessage) -> OutboundMessage {
        compression.prepare(messagePack.prepare(message))
    }

    /// The context of the loop that owns a channel or session.
    public func context(for eventLoop: any EventLoop) -> LoopContext {
        for context in all where context.eventLoop === eventLoop { return context }
        preconditionFailure("event loop is not part of the group")
    }
}
