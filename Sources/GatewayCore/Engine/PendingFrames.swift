import NIOCore

/// The frames a socket was handed since its last flush, joined so that a loop tick gives the
/// socket one write: NIO's per-write pipeline walk and bookkeeping (retains, the pending-writes
/// queue) were the largest cost of the fan-out profile at a million deliveries a second. A lone
/// frame is kept by reference (no copy); a second one starts a buffer of the socket's own. Kept
/// here, in the engine, so the per-message work inlines into the broadcast loop; the writer
/// (``FrameWriter``) sees one buffer per tick.
struct PendingFrames {
    private var joined: ByteBuffer?
    private var isShared = false
    /// Joined bytes past this go to the socket without waiting for the flush.
    static let limit = 64 * 1024

    var isEmpty: Bool { joined == nil }

    /// Adds `frame`; true when the joined bytes reached ``limit`` and should go out now.
    @inline(__always)
    mutating func append(_ frame: ByteBuffer) -> Bool {
        guard joined != nil else {
            joined = frame
            isShared = true
            return false
        }
        if isShared {
            var own = ByteBufferAllocator().buffer(capacity: max(4096, joined!.readableBytes + frame.readableBytes))
            own.writeImmutableBuffer(joined!)
            joined = own
            isShared = false
        }
        joined!.writeImmutableBuffer(frame)
        return joined!.readableBytes >= Self.limit
    }

    /// What is joined so far, handed out once.
    mutating func take() -> ByteBuffer? {
        defer { joined = nil }
        return joined
    }
}
