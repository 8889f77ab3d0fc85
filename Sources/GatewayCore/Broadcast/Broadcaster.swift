import GatewayMetrics
import NIOCore
import SocketIOCodec

/// The in-process ``Publisher``: fans a message out to a room on every event loop. The packet
/// is encoded once by the caller, each loop gets it in its next pass (``LoopContext/post(_:)``),
/// and each loop writes the same buffers to its own members.
public final class Broadcaster: Publisher {
    public let loops: LoopContexts
    private var contexts: [LoopContext] { loops.all }
    private let metrics: GatewayMetrics

    public init(loops: LoopContexts, metrics: GatewayMetrics) {
        self.loops = loops
        self.metrics = metrics
    }

    /// `flushInterval`: the least time between two flush rounds on one loop (0: every tick).
    public convenience init(
        group: any EventLoopGroup, metrics: GatewayMetrics, flushInterval: TimeAmount = .zero, compression: FrameCompression = FrameCompression()
    ) {
        self.init(loops: LoopContexts(group: group, flushInterval: flushInterval, compression: compression), metrics: metrics)
    }

    /// Delivers `message` to the local members of `rooms` (all of one namespace).
    /// `ordered`: even the caller's own loop gets it as a task, so deliveries keep the order in
    /// which callers (serialised by their own lock) made them on every loop alike.
    public func publish(_ message: OutboundMessage, to keys: [RoomKey], ordered: Bool) {
        guard let namespace = keys.first?.namespace else { return }
        let message = loops.prepare(message)
        let handles = metrics.namespace(namespace.value)
        let metrics = metrics
        let received = NIODeadline.now()
        for context in contexts {
            if !ordered && context.eventLoop.inEventLoop {
                Self.deliver(message, to: keys, on: context, receivedAt: received, metrics: metrics, handles: handles)
            } else {
                context.post {
                    Self.deliver(message, to: keys, on: context, receivedAt: received, metrics: metrics, handles: handles)
                }
            }
        }
    }

    /// A feed batch: one post per loop for all of it, each message delivered in order.
    public func publish(_ batch: [Publication]) {
        guard !batch.isEmpty else { return }
        let received = NIODeadline.now()
        let metrics = metrics
        let loops = loops
        let items = batch.compactMap { item in
            item.rooms.first.map { (loops.prepare(item.message), item.rooms, metrics.namespace($0.namespace.value)) }
        }
        for context in contexts {
            let deliverAll: @Sendable () -> Void = {
                for (message, keys, handles) in items {
                    Self.deliver(message, to: keys, on: context, receivedAt: received, metrics: metrics, handles: handles)
                }
            }
            if context.eventLoop.inEventLoop { deliverAll() } else { context.post(deliverAll) }
        }
    }

    /// Writes to one loop's members, then counts once: the number sent and the time from the
    /// broadcast call (feed receipt) to the last socket write on this loop.
    private static func deliver(
        _ message: OutboundMessage, to keys: [RoomKey], on context: LoopContext, receivedAt: NIODeadline,
        metrics: GatewayMetrics, handles: NamespaceMetrics
    ) {
        let count = context.deliver(message, to: keys)
        guard count > 0 else { return }
        metrics.countSent(count, handle: handles.messagesSent)
        handles.deliveryLatency.recordNanoseconds((NIODeadline.now() - receivedAt).nanoseconds)
    }
}
