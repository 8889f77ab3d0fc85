@testable import Namespaces
import Testing

@Suite("Recovery log of /user events")
struct UserEventLogTests {
    @Test("offsets rise across users and a user's missed events come back in order, on its channels only")
    func missedInOrder() {
        var log = UserEventLog(window: 60)
        let a1 = log.append(user: "a", channel: "orders", event: "order.new", payloadJSON: "{}", now: 0)
        let b1 = log.append(user: "b", channel: "orders", event: "order.new", payloadJSON: "{}", now: 0)
        let a2 = log.append(user: "a", channel: "wallet", event: "wallet.update", payloadJSON: "{\"w\":1}", now: 1)
        let a3 = log.append(user: "a", channel: "user", event: "margin.call", payloadJSON: "{}", now: 2)
        let a4 = log.append(user: "a", channel: "orders", event: "order.filled", payloadJSON: "{}", now: 3)
        #expect(b1.offset == a1.offset + 1 && a2.offset > b1.offset)
        #expect(log.missed(user: "a", after: a1.offset, channels: ["orders", "wallet"]) == .events([a2, a3, a4]))
        // Narrowed to orders: the user-wide margin call still counts.
        #expect(log.missed(user: "a", after: a1.offset, channels: ["orders"]) == .events([a3, a4]))
        #expect(log.missed(user: "b", after: b1.offset, channels: ["orders"]) == .events([]))
        #expect(log.missed(user: "nobody", after: 0, channels: ["orders"]) == .events([]))
    }

    @Test("events older than the window are dropped without making anyone truncated")
    func expiry() {
        var log = UserEventLog(window: 10)
        _ = log.append(user: "a", channel: "orders", event: "e", payloadJSON: "{}", now: 0)
        let late = log.append(user: "a", channel: "orders", event: "e", payloadJSON: "{}", now: 8)
        log.expire(now: 15)
        #expect(log.count == 1)
        #expect(log.missed(user: "a", after: 0, channels: ["orders"]) == .events([late]))
        log.expire(now: 30)
        #expect(log.count == 0)
    }

    @Test("past the per-user cap, a socket that missed the dropped events cannot recover; a newer one can")
    func perUserCap() {
        var log = UserEventLog(window: 60, maxPerUser: 3)
        let entries = (0..<5).map { log.append(user: "a", channel: "orders", event: "e", payloadJSON: "{\"n\":\($0)}", now: Double($0)) }
        #expect(log.missed(user: "a", after: 0, channels: ["orders"]) == .truncated)
        #expect(log.missed(user: "a", after: entries[1].offset, channels: ["orders"]) == .events(Array(entries[2...])))
        #expect(log.count <= 5)
    }

    @Test("payload bytes are capped too: big events push out the oldest")
    func byteCap() {
        var log = UserEventLog(window: 600, maxPerUser: 100, maxTotal: 1000, maxBytes: 10_000)
        let big = "\"" + String(repeating: "x", count: 3_000) + "\""
        let first = log.append(user: "a", channel: "orders", event: "e", payloadJSON: big, now: 0)
        for n in 1...5 { _ = log.append(user: "b", channel: "orders", event: "e", payloadJSON: big, now: Double(n)) }
        #expect(log.bytes <= 10_000 && log.count == 3)
        #expect(log.missed(user: "a", after: first.offset - 1, channels: ["orders"]) == .truncated)
    }

    @Test("the total cap keeps memory bounded and refuses replays older than what it dropped")
    func totalCap() {
        var log = UserEventLog(window: 600, maxPerUser: 100, maxTotal: 10)
        var last: UserEventLog.Entry?
        for n in 0..<50 {
            last = log.append(user: "u\(n % 7)", channel: "orders", event: "e", payloadJSON: "{}", now: Double(n))
        }
        #expect(log.count == 10)
        #expect(log.missed(user: "u0", after: 0, channels: ["orders"]) == .truncated)
        #expect(log.missed(user: "u0", after: last!.offset, channels: ["orders"]) == .events([]))
    }
}

@Suite("Recoverable /user sessions")
struct RecoverySessionsTests {
    func session(_ pid: String, user: String = "a", at time: Double = 0) -> RecoverySessions.Session {
        RecoverySessions.Session(pid: pid, sid: "sid-" + pid, userId: user, channels: ["orders"], baseline: 0, disconnectedAt: time)
    }

    @Test("a session is taken once, by its own user, within the window")
    func takeOnce() {
        var sessions = RecoverySessions(window: 10)
        sessions.store(session("p1"))
        #expect(sessions.take(pid: "p1", userId: "b", now: 1) == .otherUser)
        #expect(sessions.take(pid: "p1", userId: "a", now: 1) == .found(session("p1")))
        #expect(sessions.take(pid: "p1", userId: "a", now: 1) == .unknown)
        sessions.store(session("p2"))
        #expect(sessions.take(pid: "p2", userId: "a", now: 11) == .unknown)
        #expect(sessions.count == 0)
    }

    @Test("one user keeps at most `perUser` sessions: a user dropping in a loop cannot push out another's")
    func perUser() {
        var sessions = RecoverySessions(window: 100, capacity: 10, perUser: 2)
        sessions.store(session("victim", user: "v", at: 0))
        for n in 0..<50 { sessions.store(session("churn\(n)", user: "c", at: Double(n) / 100)) }
        #expect(sessions.count == 3)
        #expect(sessions.take(pid: "victim", userId: "v", now: 1) == .found(session("victim", user: "v", at: 0)))
        #expect(sessions.take(pid: "churn49", userId: "c", now: 1) == .found(session("churn49", user: "c", at: 0.49)))
        #expect(sessions.take(pid: "churn47", userId: "c", now: 1) == .unknown)
        // A recovered socket stores the same pid again: it counts once.
        sessions.store(session("again", user: "v", at: 2))
        sessions.store(session("again", user: "v", at: 3))
        sessions.store(session("other", user: "v", at: 4))
        #expect(sessions.take(pid: "again", userId: "v", now: 5) == .found(session("again", user: "v", at: 3)))
    }

    @Test("at most `capacity` sessions are kept, the oldest go first")
    func capacity() {
        var sessions = RecoverySessions(window: 100, capacity: 3)
        for n in 0..<5 { sessions.store(session("p\(n)", at: Double(n))) }
        #expect(sessions.count == 3)
        #expect(sessions.take(pid: "p0", userId: "a", now: 5) == .unknown)
        #expect(sessions.take(pid: "p4", userId: "a", now: 5) == .found(session("p4", at: 4)))
    }
}
