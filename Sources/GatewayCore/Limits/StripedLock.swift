import NIOConcurrencyHelpers

/// A table split over several locks by key, so threads working on different keys seldom wait
/// for one another. One lock per table made every client event of every loop queue behind the
/// others (`gateway-bench locks` measures it against one stripe, interleaved).
public final class StripedLock<Value: Sendable>: Sendable {
    private let stripes: [NIOLockedValueBox<Value>]

    /// `count` stripes, each starting as `make()`; one stripe is a single lock.
    public init(stripes count: Int = 16, _ make: () -> Value) {
        precondition(count > 0, "at least one stripe")
        stripes = (0..<count).map { _ in NIOLockedValueBox(make()) }
    }

    public var stripeCount: Int { stripes.count }

    /// Runs `body` on the stripe that holds `key`, under that stripe's lock only.
    @inline(__always)
    public func withLock<Key: Hashable, Result>(for key: Key, _ body: (inout Value) throws -> Result) rethrows -> Result {
        try stripes[Int(UInt(bitPattern: key.hashValue) % UInt(stripes.count))].withLockedValue(body)
    }

    /// Runs `body` on every stripe in turn (totals, sweeps); never two locks at once.
    public func forEachStripe(_ body: (inout Value) throws -> Void) rethrows {
        for stripe in stripes { try stripe.withLockedValue(body) }
    }
}
