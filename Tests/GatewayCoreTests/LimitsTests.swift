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
        let a = RateLimitKey(namespace: "/prices", owner: .connection("a"))
        for _ in 0..<3 { #expect(store.takeLocally(key: a, policy: policy, now: 0) == .allowed) }
        #expect(store.takeLocally(key: a, policy: policy, now: 0) == .refused(retryAfterMs: 60_000))
        #expect(store.takeLocally(key: RateLimitKey(namespace: "/prices", owner: .connection("b")), policy: policy, now: 0) == .allowed)
        #expect(store.bucketCount == 2)
        _ = store.takeLocally(key: RateLimitKey(namespace: "/prices", owner: .connection("c")), policy: policy, now: 100)
        #expect(store.bucketCount == 1)
    }

    @Test("a sweep judges each bucket by its own namespace's policy, not the caller's")
    func sweepUsesEachBucketsPolicy() {
        let store = LocalRateLimitStore(sweepEverySeconds: 1)
        // /prices: 3 points per 100 s. After 10 s it has refilled 0.3 of a point: not idle.
        let slow = TokenBucket.Policy(points: 3, duration: 100, blockDuration: 60)
        let prices = RateLimitKey(namespace: "/prices", owner: .user("u"))
        for _ in 0..<3 { #expect(store.takeLocally(key: prices, policy: slow, now: 0) == .allowed) }
        // A /user event with a fast policy runs the sweep: by that policy /prices looks full.
        let fast = TokenBucket.Policy(points: 3, duration: 0.001, blockDuration: 60)
        _ = store.takeLocally(key: RateLimitKey(namespace: "/user", owner: .user("u")), policy: fast, now: 10)
        #expect(store.takeLocally(key: prices, policy: slow, now: 10) == .refused(retryAfterMs: 60_000))
    }

    @Test("rate-limit keys: users are shared, connections are not, and ids never spell each other")
    func keys() {
        let alice = RateLimitKey(namespace: "/user", owner: .user("alice"))
        #expect(alice.isShared)
        #expect(!RateLimitKey(namespace: "/user", owner: .connection("alice")).isShared)
        #expect(alice.storageName == "/user|user:alice")
        let ids = ["alice", "alice#offsets", "alice:x", "a|user:b", "*", "{a}", "é"]
        let names = Set(ids.map { RateLimitKey(namespace: "/user", owner: .user($0)).storageName })
        #expect(names.count == ids.count)
        #expect(RateLimitKey(namespace: "/user", owner: .user("conn:x")).storageName != RateLimitKey(namespace: "/user", owner: .connection("x")).storageName)
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
