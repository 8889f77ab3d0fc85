import NIOConcurrencyHelpers
import NIOCore
import Synchronization

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

/// Token buckets per (namespace, key) in this process, striped over several locks by key (one
/// lock for every client event of every loop was a queue; see ``StripedLock``). Idle buckets
/// are swept so each stripe stays bounded by its active keys; each bucket is judged idle by its
/// own policy (a sweep run by a `/user` event must not reset a `/prices` bucket early).
public final class LocalRateLimitStore: RateLimitStore {
    private struct Entry {
        var bucket: TokenBucket
        var policy: TokenBucket.Policy
    }

    private let stripes: StripedLock<[RateLimitKey: Entry]>
    private let sweepEvery: Double
    /// When the last sweep of every stripe started (milliseconds of the callers' clock).
    private let lastSweepMs = Atomic<Int64>(0)

    /// `stripes`: 1 is the old single lock (kept for the benchmark's comparison).
    public init(sweepEverySeconds: Double = 30, stripes: Int = 16) {
        sweepEvery = sweepEverySeconds
        self.stripes = StripedLock(stripes: stripes) { [:] }
    }

    public func takeLocally(key: RateLimitKey, policy: TokenBucket.Policy, now: Double) -> TokenBucket.Decision {
        let decision = stripes.withLock(for: key) { buckets in
            var entry = buckets[key] ?? Entry(bucket: TokenBucket(policy: policy, now: now), policy: policy)
            entry.policy = policy
            let decision = entry.bucket.take(policy: policy, now: now)
            buckets[key] = entry
            return decision
        }
        sweepIfDue(now: now)
        return decision
    }

    /// Every `sweepEvery` seconds one caller (whoever wins the exchange) sweeps every stripe,
    /// one lock at a time.
    private func sweepIfDue(now: Double) {
        let nowMs = Int64(now * 1000)
        let last = lastSweepMs.load(ordering: .relaxed)
        guard Double(nowMs - last) > sweepEvery * 1000,
            lastSweepMs.compareExchange(expected: last, desired: nowMs, ordering: .relaxed).exchanged
        else { return }
        stripes.forEachStripe { buckets in
            buckets = buckets.filter { !$0.value.bucket.isIdle(policy: $0.value.policy, now: now) }
        }
    }

    public var bucketCount: Int {
        var total = 0
        stripes.forEachStripe { total += $0.count }
        return total
    }

    /// Without this a closed connection's bucket stayed until a sweep, and a sweep only runs on
    /// the next take: after a crowd left, its 10,000 buckets stayed, scattered through the heap.
    public func forget(key: RateLimitKey) {
        stripes.withLock(for: key) { _ = $0.removeValue(forKey: key) }
    }

    public func take(key: RateLimitKey, policy: TokenBucket.Policy, now: Double, on eventLoop: any EventLoop) -> RateLimitAnswer {
        .now(takeLocally(key: key, policy: policy, now: now))
    }
}
