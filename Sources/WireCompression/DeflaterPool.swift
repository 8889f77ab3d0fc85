import NIOConcurrencyHelpers
import NIOCore

/// Deflaters to borrow from any thread: a broadcast is compressed on whichever thread publishes
/// it. Holds at most `capacity` idle deflaters (a deflate stream holds about 256 KiB), so the
/// memory is bounded by the threads that compress at once, not by connections.
public final class DeflaterPool: Sendable {
    private let idleDeflaters = NIOLockedValueBox<[MessageDeflater]>([])
    private let level: Int
    private let capacity: Int

    public init(level: Int, capacity: Int = 8) {
        self.level = level
        self.capacity = capacity
    }

    /// Runs `body` with a deflater of the pool (a new one when all are busy).
    public func withDeflater<T>(_ body: (MessageDeflater) throws(CompressionError) -> T) throws(CompressionError) -> T {
        let deflater: MessageDeflater
        if let idle = idleDeflaters.withLockedValue({ $0.popLast() }) {
            deflater = idle
        } else {
            deflater = try MessageDeflater(level: level)
        }
        defer { idleDeflaters.withLockedValue { if $0.count < capacity { $0.append(deflater) } } }
        return try body(deflater)
    }
}

extension MessageDeflater: @unchecked Sendable {}  // used by one thread at a time (the pool's lock hands it over)
