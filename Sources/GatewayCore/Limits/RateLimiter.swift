import NIOConcurrencyHelpers

/// Where buckets live: in process by default; the cluster work backs this with Redis so all
/// instances share them (and falls back to the local store when Redis is unreachable).
public protocol RateLimitStore: Sendable {
    func take(key: String, policy: TokenBucket.Policy, now: Double) -> TokenBucket.Decision
}

/// Token buckets per (namespace, key) in this process, behind one lock. Idle buckets are swept
/// so the table stays bounded by the number of active keys.
public final class LocalRateLimitStore: RateLimitStore {
    private struct State {
        var buckets: [String: TokenBucket] = [:]
        var lastSweep: Double = 0
    }

    private let state = NIOLockedValueBox(State())
    private let sweepEvery: Double

    public init(sweepEverySeconds: Double = 30) {
        sweepEvery = sweepEverySeconds
    }

    public func take(key: String, policy: TokenBucket.Policy, now: Double) -> TokenBucket.Decision {
        state.withLockedValue { state in
            if now - state.lastSweep > sweepEvery {
                state.buckets = state.buckets.filter { !$0.value.isIdle(policy: policy, now: now) }
                state.lastSweep = now
            }
            var bucket = state.buckets[key] ?? TokenBucket(policy: policy, now: now)
            let decision = bucket.take(policy: policy, now: now)
            state.buckets[key] = bucket
            return decision
        }
    }

    public var bucketCount: Int { state.withLockedValue { $0.buckets.count } }
}
