import GatewayCore
import NIOCore
import Testing

@Suite("Idempotency keys kept on one instance")
struct IdempotencyStoreTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test("a key is first once, then a repeat with its fingerprint, a conflict with another, and free again after its window")
    func window() {
        let store = LocalIdempotencyStore(maxKeys: 10)
        #expect(store.claimNow("k", fingerprint: "a", window: .seconds(60), now: start) == .first)
        #expect(store.claimNow("k", fingerprint: "a", window: .seconds(60), now: start + .seconds(30)) == .repeated)
        #expect(store.claimNow("k", fingerprint: "b", window: .seconds(60), now: start + .seconds(30)) == .conflict)
        #expect(store.claimNow("k", fingerprint: "b", window: .seconds(60), now: start + .seconds(60)) == .first, "the window ended")
    }

    @Test("past maxKeys the oldest key is forgotten first, and expired keys make room")
    func bounded() {
        let store = LocalIdempotencyStore(maxKeys: 3)
        for key in ["a", "b", "c", "d"] { #expect(store.claimNow(key, fingerprint: "x", window: .seconds(60), now: start) == .first) }
        #expect(store.count == 3)
        #expect(store.claimNow("a", fingerprint: "x", window: .seconds(60), now: start) == .first, "the oldest went first")
        #expect(store.claimNow("d", fingerprint: "x", window: .seconds(60), now: start) == .repeated, "the newest stayed")
        #expect(store.claimNow("e", fingerprint: "x", window: .seconds(1), now: start + .seconds(120)) == .first)
        #expect(store.count == 1, "every key past its window was swept when a new one came")
    }
}
