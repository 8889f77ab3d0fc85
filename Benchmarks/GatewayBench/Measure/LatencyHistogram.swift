/// Latencies recorded on one event loop, in 50 µs buckets up to 5 s (slower ones land in the
/// last bucket). Only touched on that loop, so recording a sample is two increments.
final class LatencyHistogram {
    static let bucketMicros = 50
    static let bucketCount = 100_000
    private(set) var buckets = [Int](repeating: 0, count: bucketCount)
    /// Events since the last reset, with or without a latency sample.
    private(set) var count = 0
    /// Events since the start, never reset: progress lines take differences of it.
    private(set) var total = 0

    func record(nanos: UInt64) {
        buckets[min(Int(nanos / 1000) / Self.bucketMicros, Self.bucketCount - 1)] += 1
        count += 1
        total += 1
    }

    /// An event that carries no send time: counted, not timed.
    func countUntimed() {
        count += 1
        total += 1
    }

    func reset() {
        for index in buckets.indices where buckets[index] != 0 { buckets[index] = 0 }
        count = 0
    }

    var snapshot: LatencySnapshot { LatencySnapshot(buckets: buckets, count: count, total: total) }
}

/// A copy of histograms, merged over the loops, read off the loops.
struct LatencySnapshot: Sendable {
    var buckets = [Int](repeating: 0, count: LatencyHistogram.bucketCount)
    var count = 0
    var total = 0

    mutating func merge(_ other: LatencySnapshot) {
        for index in buckets.indices where other.buckets[index] != 0 { buckets[index] += other.buckets[index] }
        count += other.count
        total += other.total
    }

    /// Latency at quantile `q` in milliseconds (the upper edge of its bucket); nil without samples.
    func quantile(_ q: Double) -> Double? {
        let timed = buckets.reduce(0, +)
        guard timed > 0 else { return nil }
        let target = max(1, Int((Double(timed) * q).rounded(.up)))
        var seen = 0
        for (index, count) in buckets.enumerated() {
            seen += count
            if seen >= target { return Self.milliseconds(bucket: index) }
        }
        return Self.milliseconds(bucket: buckets.count - 1)
    }

    var maximum: Double? { buckets.lastIndex { $0 != 0 }.map(Self.milliseconds) }

    var summary: LatencySummary {
        LatencySummary(p50: quantile(0.5), p90: quantile(0.9), p99: quantile(0.99), max: maximum)
    }

    private static func milliseconds(bucket: Int) -> Double {
        Double((bucket + 1) * LatencyHistogram.bucketMicros) / 1000
    }
}

/// p50, p90, p99 and max in milliseconds; nil when nothing was timed.
struct LatencySummary: Sendable {
    var p50: Double?
    var p90: Double?
    var p99: Double?
    var max: Double?
}
