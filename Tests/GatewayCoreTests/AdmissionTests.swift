import GatewayCore
import Testing

@Suite("Handshake admission and refused-CONNECT throttle")
struct AdmissionTests {
    @Test("sessions per address: the next is refused per address; a release frees a slot")
    func sessionsPerAddress() {
        let admission = EngineAdmission(limits: .init(maxSessions: 100, maxSessionsPerAddress: 2, handshakesPerSecond: 0, handshakesPerSecondPerAddress: 0))
        #expect(admission.admit("a", now: 0, acquire: true) == nil)
        #expect(admission.admit("a", now: 0, acquire: true) == nil)
        let refused = admission.admit("a", now: 0, acquire: true)
        #expect(refused?.refusal == .sessionsPerAddress && refused?.refusal.isPerAddress == true)
        #expect(admission.admit("b", now: 0, acquire: true) == nil, "another address is not affected")
        admission.release("a")
        #expect(admission.admit("a", now: 0, acquire: true) == nil)
        #expect(admission.sessionCount == 3)
    }

    @Test("sessions per instance: refused as busy, not per address")
    func sessionsPerInstance() {
        let admission = EngineAdmission(limits: .init(maxSessions: 2, maxSessionsPerAddress: 10, handshakesPerSecond: 0, handshakesPerSecondPerAddress: 0))
        #expect(admission.acquire("a") == nil && admission.acquire("b") == nil)
        #expect(admission.acquire("c") == .sessions)
        #expect(admission.admit("c", now: 0, acquire: false)?.refusal == .sessions)
    }

    @Test("handshake rates: a burst of `rate`, then a refusal with the seconds to wait; refills with time")
    func rates() {
        let admission = EngineAdmission(limits: .init(maxSessions: 1000, maxSessionsPerAddress: 1000, handshakesPerSecond: 0, handshakesPerSecondPerAddress: 4))
        for _ in 0..<4 { #expect(admission.admit("a", now: 10, acquire: false) == nil) }
        let refused = admission.admit("a", now: 10, acquire: false)
        #expect(refused?.refusal == .handshakeRatePerAddress && refused?.retryAfterSeconds == 1)
        #expect(admission.admit("b", now: 10, acquire: false) == nil)
        #expect(admission.admit("a", now: 10.3, acquire: false) == nil, "a quarter second refills one of four a second")
        let instance = EngineAdmission(limits: .init(maxSessions: 1000, maxSessionsPerAddress: 1000, handshakesPerSecond: 2, handshakesPerSecondPerAddress: 0))
        #expect(instance.admit("a", now: 0, acquire: false) == nil && instance.admit("b", now: 0, acquire: false) == nil)
        #expect(instance.admit("c", now: 0, acquire: false)?.refusal == .handshakeRate)
    }

    @Test("the rate table is bounded: full buckets are swept, and past the bound new addresses are refused")
    func addressTable() {
        let admission = EngineAdmission(limits: .init(
            maxSessions: 1000, maxSessionsPerAddress: 1000, handshakesPerSecond: 0, handshakesPerSecondPerAddress: 10, maxTrackedAddresses: 3
        ))
        for address in ["a", "b", "c"] { #expect(admission.admit(address, now: 0, acquire: false) == nil) }
        #expect(admission.admit("d", now: 0.5, acquire: false)?.refusal == .addressTable)
        #expect(admission.admit("d", now: 2, acquire: false) == nil, "refilled entries were swept")
        #expect(admission.trackedAddresses == 1)
    }

    @Test("refused CONNECTs per address: after the bucket is spent, wait; it refills over the minute")
    func connectAttempts() {
        let limiter = ConnectAttemptLimiter(perMinute: 3)
        #expect(limiter.retryAfterMs("a", now: 0) == nil)
        for _ in 0..<3 { limiter.recordRefusal("a", now: 0) }
        #expect(limiter.retryAfterMs("a", now: 0) == 20_000)
        #expect(limiter.retryAfterMs("b", now: 0) == nil)
        #expect(limiter.retryAfterMs("a", now: 20) == nil)
        #expect(ConnectAttemptLimiter(perMinute: 0).retryAfterMs("a", now: 0) == nil, "0: no limit")
    }

    @Test("per-address keys: IPv4 as is, IPv6 by its /64, IPv4-mapped IPv6 as IPv4")
    func addressKeys() {
        #expect(AddressKey.of("203.0.113.7") == "203.0.113.7")
        #expect(AddressKey.of("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64")
        #expect(AddressKey.of("2001:db8:1:2:ffff:ffff:ffff:ffff") == AddressKey.of("2001:db8:1:2::9"))
        #expect(AddressKey.of("2001:db8:1:3::1") != AddressKey.of("2001:db8:1:2::1"))
        #expect(AddressKey.of("::ffff:203.0.113.7") == "203.0.113.7")
        #expect(AddressKey.of(nil) == "unknown")
        // A /64 shares one bucket: a new address per handshake does not step around the bound.
        let admission = EngineAdmission(limits: .init(maxSessions: 100, maxSessionsPerAddress: 2, handshakesPerSecond: 0, handshakesPerSecondPerAddress: 0))
        #expect(admission.admit("2001:db8::1", now: 0, acquire: true) == nil)
        #expect(admission.admit("2001:db8::2", now: 0, acquire: true) == nil)
        #expect(admission.admit("2001:db8::3", now: 0, acquire: true)?.refusal == .sessionsPerAddress)
    }
}
