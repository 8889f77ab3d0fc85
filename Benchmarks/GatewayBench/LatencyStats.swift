import NIOCore

/// Receive counts and a latency histogram for the connections of one event loop; only touched
/// on that loop, so recording a delivery is two array increments.
final class LoopStats: @unchecked Sendable {
    /// 50 µs buckets up to 5 s; anything slower lands in the last bucket.
    static let bucketMicros = 50
    static let bucketCount = 100_000
    var buckets = [Int](repeating: 0, count: bucketCount)
    var received = 0

    func record(latencyNanos: UInt64) {
        received += 1
        let index = min(Int(latencyNanos / 1000) / Self.bucketMicros, Self.bucketCount - 1)
        buckets[index] += 1
    }

    func reset() {
        for index in buckets.indices { buckets[index] = 0 }
        received = 0
    }
}

/// Merged figures of one measurement window.
struct WindowResult {
    var received = 0
    var buckets = [Int](repeating: 0, count: LoopStats.bucketCount)

    mutating func merge(_ stats: LoopStats) {
        received += stats.received
        for index in buckets.indices where stats.buckets[index] != 0 { buckets[index] += stats.buckets[index] }
    }

    /// Latency at quantile `q`, in milliseconds (upper edge of its bucket).
    func quantile(_ q: Double) -> Double {
        let total = buckets.reduce(0, +)
        guard total > 0 else { return .nan }
        let target = Int((Double(total) * q).rounded(.up))
        var seen = 0
        for (index, count) in buckets.enumerated() {
            seen += count
            if seen >= target { return Double((index + 1) * LoopStats.bucketMicros) / 1000 }
        }
        return Double(LoopStats.bucketCount * LoopStats.bucketMicros) / 1000
    }
}
