import GatewayCore
import Testing

@Suite("Token buckets and counters")
struct LimitsTests {
    let policy = TokenBucket.Policy(points: 3, duration: 1, blockDuration: 60)

    @Test("a bucket allows `points` events, refuses the next and blocks for blockDuration")
    func edges() {
        var bucket = TokenBucket(policy: policy, now: 0)
        #expect(bucket.take(policy: policy, now: 0) == .allowed)
        #expect(bucket.take(policy: policy, now: 0) == .allowed)
        #expect(bucket.take(policy: policy, now: 0) == .allowed)
        #expect(bucket.take(policy: policy, now: 0) == .refused(retryAfterMs: 60_000))
        #expect(bucket.take(policy: policy, now: 30) == .refused(retryAfterMs: 30_000))
        #expect(bucket.take(policy: policy, now: 59.999) == .refused(retryAfterMs: 1))
        // After the block the bucket is full again: `points` events, then a new block.
        for _ in 0..<3 { #expect(bucket.take(policy: policy, now: 60) == .allowed) }
        #expect(bucket.take(policy: policy, now: 60) == .refused(retryAfterMs: 60_000))
    }

    @Test("tokens refill evenly over the duration")
    func refill() {
        var bucket = TokenBucket(policy: policy, now: 0)
        for _ in 0..<3 { _ = bucket.take(policy: policy, now: 0) }
        #expect(bucket.take(policy: policy, now: 0.34) == .allowed)
        #expect(bucket.take(policy: policy, now: 0.35) == .refused(retryAfterMs: 60_000))
    }

    @Test("the local store keeps one bucket per key and forgets idle ones")
    func store() {
        let store = LocalRateLimitStore(sweepEverySeconds: 10)
        for _ in 0..<3 { #expect(store.take(key: "/prices|a", policy: policy, now: 0) == .allowed) }
        #expect(store.take(key: "/prices|a", policy: policy, now: 0) == .refused(retryAfterMs: 60_000))
        #expect(store.take(key: "/prices|b", policy: policy, now: 0) == .allowed)
        #expect(store.bucketCount == 2)
        _ = store.take(key: "/prices|c", policy: policy, now: 100)
        #expect(store.bucketCount == 1)
    }

    @Test("connection counters cap per key and release")
    func counters() {
        let counter = ConnectionCounter(limit: 2)
        #expect(counter.acquire("u1"))
        #expect(counter.acquire("u1"))
        #expect(!counter.acquire("u1"))
        #expect(counter.acquire("u2"))
        counter.release("u1")
        #expect(counter.acquire("u1"))
        #expect(counter.activeKeys == 2)
    }

    @Test("quotas reserve a whole amount or nothing")
    func quotas() {
        let quota = QuotaCounter(limit: 5)
        #expect(quota.reserve("u1", amount: 4))
        #expect(!quota.reserve("u1", amount: 2))
        #expect(quota.used("u1") == 4)
        #expect(quota.reserve("u1", amount: 1))
        quota.release("u1", amount: 5)
        #expect(quota.used("u1") == 0)
    }
}
