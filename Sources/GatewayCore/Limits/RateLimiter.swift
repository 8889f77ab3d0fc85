import NIOConcurrencyHelpers
import NIOCore

/// A rate-limit decision: at once (buckets in this process), or when a shared store answers.
public enum RateLimitAnswer: Sendable {
    case now(TokenBucket.Decision)
    case later(EventLoopFuture<TokenBucket.Decision>)
}

/// Where buckets live: in process by default; in cluster mode in Redis, so all instances
/// share them (falling back to local buckets while Redis is unreachable).
public protocol RateLimitStore: Sendable {
    /// Takes one token for `key`; a later answer completes on any loop.
    func take(key: String, policy: TokenBucket.Policy, now: Double, on eventLoop: any EventLoop) -> RateLimitAnswer
    /// Drops the bucket of a key that will not be used again (a connection's, once it is gone).
    func forget(key: String)
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

    /// Without this a closed connection's bucket stayed until a sweep, and a sweep only runs on
    /// the next take: after a crowd left, its 10,000 buckets stayed, scattered through the heap.
    public func forget(key: String) {
        state.withLockedValue { _ = $0.buckets.removeValue(forKey: key) }
    }

    public func take(key: String, policy: TokenBucket.Policy, now: Double, on eventLoop: any EventLoop) -> RateLimitAnswer {
        .now(take(key: key, policy: policy, now: now))
    }
}
