import NIOConcurrencyHelpers

/// zlib streams to borrow from any thread (a deflate stream holds about 256 KiB): at most
/// `capacity` idle ones are kept, so the memory is bounded by the threads that compress at
/// once, not by connections or requests. Used for WebSocket messages and HTTP bodies alike.
final class ZlibPool<Stream: AnyObject>: @unchecked Sendable {
    private let idle = NIOLockedValueBox<[Stream]>([])
    private let capacity: Int
    private let make: @Sendable () throws(CompressionError) -> Stream

    // @unchecked: a stream is used by one thread at a time; the lock hands it over.
    init(capacity: Int, make: @escaping @Sendable () throws(CompressionError) -> Stream) {
        self.capacity = capacity
        self.make = make
    }

    /// Runs `body` with a stream of the pool (a new one when all are busy). `body` leaves the
    /// stream ready for the next use (reset).
    func withStream<T>(_ body: (Stream) throws(CompressionError) -> T) throws(CompressionError) -> T {
        let stream: Stream
        if let reused = idle.withLockedValue({ $0.popLast() }) {
            stream = reused
        } else {
            stream = try make()
        }
        defer { idle.withLockedValue { if $0.count < capacity { $0.append(stream) } } }
        return try body(stream)
    }
}
