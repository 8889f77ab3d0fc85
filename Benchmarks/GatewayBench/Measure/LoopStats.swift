/// What the clients of one event loop measured: connect → ack times, deliveries, and failures
/// by kind. One per loop, not one per connection (a histogram is 800 kB); only touched on its
/// loop.
final class LoopStats: @unchecked Sendable {
    let connects = LatencyHistogram()
    let deliveries = LatencyHistogram()
    /// Payload bytes of the deliveries since the last reset (what a depth choice saves).
    var deliveredBytes = 0
    private(set) var errors: [String: Int] = [:]
    private(set) var firstError: String?

    func record(_ failure: ClientFailure) {
        errors[failure.kind, default: 0] += 1
        if firstError == nil { firstError = failure.description }
    }

    var snapshot: StatsSnapshot {
        StatsSnapshot(connects: connects.snapshot, deliveries: deliveries.snapshot, deliveredBytes: deliveredBytes, errors: errors, firstError: firstError)
    }
}

/// Every loop's figures merged, read off the loops.
struct StatsSnapshot: Sendable {
    var connects = LatencySnapshot()
    var deliveries = LatencySnapshot()
    var deliveredBytes = 0
    var errors: [String: Int] = [:]
    var firstError: String?

    var errorCount: Int { errors.values.reduce(0, +) }

    mutating func merge(_ other: StatsSnapshot) {
        connects.merge(other.connects)
        deliveries.merge(other.deliveries)
        deliveredBytes += other.deliveredBytes
        errors.merge(other.errors, uniquingKeysWith: +)
        firstError = firstError ?? other.firstError
    }
}
