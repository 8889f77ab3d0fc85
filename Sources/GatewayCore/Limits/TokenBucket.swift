/// A token bucket with a block period (SPEC §4): `points` tokens refill evenly over `duration`;
/// taking from an empty bucket refuses the event and blocks the key for `blockDuration`, during
/// which every event is refused; after the block the bucket is full again. Pure value type;
/// time is passed in (seconds).
public struct TokenBucket: Sendable, Hashable {
    public struct Policy: Sendable, Hashable {
        public var points: Int
        public var duration: Double
        public var blockDuration: Double

        public init(points: Int, duration: Double, blockDuration: Double) {
            self.points = points
            self.duration = duration
            self.blockDuration = blockDuration
        }

        var refillPerSecond: Double { Double(points) / max(duration, 0.001) }
    }

    public enum Decision: Sendable, Hashable {
        case allowed
        /// Refused; the client may try again after this many milliseconds.
        case refused(retryAfterMs: Int)
    }

    private var tokens: Double
    private var updatedAt: Double
    private var blockedUntil: Double

    public init(policy: Policy, now: Double) {
        tokens = Double(policy.points)
        updatedAt = now
        blockedUntil = -.infinity
    }

    public mutating func take(policy: Policy, now: Double) -> Decision {
        if now < blockedUntil {
            return .refused(retryAfterMs: Self.milliseconds(blockedUntil - now))
        }
        if blockedUntil.isFinite {
            // The block was the penalty: the key starts again with a full bucket.
            blockedUntil = -.infinity
            tokens = Double(policy.points)
        }
        tokens = min(Double(policy.points), tokens + (now - updatedAt) * policy.refillPerSecond)
        updatedAt = now
        if tokens >= 1 {
            tokens -= 1
            return .allowed
        }
        blockedUntil = now + policy.blockDuration
        return .refused(retryAfterMs: Self.milliseconds(policy.blockDuration))
    }

    /// True when the bucket is full and unblocked (safe to forget).
    public func isIdle(policy: Policy, now: Double) -> Bool {
        now >= blockedUntil && tokens + (now - updatedAt) * policy.refillPerSecond >= Double(policy.points)
    }

    private static func milliseconds(_ seconds: Double) -> Int { max(1, Int((seconds * 1000).rounded(.up))) }
}
