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
    func take(key: RateLimitKey, policy: TokenBucket.Policy, now: Double, on eventLoop: any EventLoop) -> RateLimitAnswer
    /// Decides in this process, whatever the store (a shared store that is slow or busy).
    func takeLocally(key: RateLimitKey, policy: TokenBucket.Policy, now: Double) -> TokenBucket.Decision
    /// Drops the bucket of a key that will not be used again (a connection's, once it is gone).
    func forget(key: RateLimitKey)
}

/// Token buckets per (namespace, key) in this process, behind one lock. Idle buckets are swept
/// so the table stays bounded by the number of active keys; each bucket is judged idle by its
/// own policy (a sweep run by a `/user` event must not reset a `/prices` bucket early).
public final class LocalRateLimitStore: RateLimitStore {
    private struct Entry {
        var bucket: TokenBucket
        var policy: TokenBucket.Policy
    }

    private struct State {
        var buckets: [RateLimitKey: Entry] = [:]
        var lastSweep: Double = 0
    }

    private let state = NIOLockedValueBox(State())
    private let sweepEvery: Double

    public init(sweepEverySeconds: Double = 30) {
        sweepEvery = sweepEverySeconds
    }

    public func takeLocally(key: RateLimitKey, policy: TokenBucket.Policy, now: Double) -> TokenBucket.Decision {
        state.withLockedValue { state in
            if now - state.lastSweep > sweepEvery {
                state.buckets = state.buckets.filter { !$0.value.bucket.isIdle(policy: $0.value.policy, now: now) }
                state.lastSweep = now
            }
            var entry = state.buckets[key] ?? Entry(bucket: TokenBucket(policy: policy, now: now), policy: policy)
            entry.policy = policy
            let decision = entry.bucket.take(policy: policy, now: now)
            state.buckets[key] = entry
            return decision
        }
    }

    public var bucketCount: Int { state.withLockedValue { $0.buckets.count } }

    /// Without this a closed connection's bucket stayed until a sweep, and a sweep only runs on
    /// the next take: after a crowd left, its 10,000 buckets stayed, scattered through the heap.
    public func forget(key: RateLimitKey) {
        state.withLockedValue { _ = $0.buckets.removeValue(forKey: key) }
    }

    public func take(key: RateLimitKey, policy: TokenBucket.Policy, now: Double, on eventLoop: any EventLoop) -> RateLimitAnswer {
        .now(takeLocally(key: key, policy: policy, now: now))
    }
}
