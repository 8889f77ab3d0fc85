/// Deflaters to borrow from any thread: a broadcast is compressed on whichever thread publishes
/// it (a ``ZlibPool`` of ``MessageDeflater``s).
public final class DeflaterPool: Sendable {
    private let pool: ZlibPool<MessageDeflater>

    public init(level: Int, capacity: Int = 8) {
        pool = ZlibPool(capacity: capacity) { () throws(CompressionError) in try MessageDeflater(level: level) }
    }

    /// Runs `body` with a deflater of the pool (a new one when all are busy).
    public func withDeflater<T>(_ body: (MessageDeflater) throws(CompressionError) -> T) throws(CompressionError) -> T {
        try pool.withStream(body)
    }
}
