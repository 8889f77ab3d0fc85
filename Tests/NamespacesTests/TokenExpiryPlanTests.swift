import NIOCore
import Testing

@testable import Namespaces

@Suite("Token expiry timers")
struct TokenExpiryPlanTests {
    @Test("a token an hour from expiry: warned 30 s before, expired at exp")
    func ordinary() {
        let plan = TokenExpiryPlan(expiresAt: 3_600, now: 0, warningSeconds: 30)
        #expect(plan.warning == .after(.milliseconds(3_570_000)))
        #expect(plan.expireIn == .milliseconds(3_600_000))
        #expect(plan.isFinal)
    }

    @Test("inside the warning window the warning is due now; an expired token expires now")
    func overdue() {
        #expect(TokenExpiryPlan(expiresAt: 10, now: 0, warningSeconds: 30).warning == .now)
        let expired = TokenExpiryPlan(expiresAt: 0, now: 10, warningSeconds: 30)
        #expect(expired.expireIn == .zero)
        #expect(expired.isFinal)
    }

    @Test("far-future and absurd expiries never overflow: cut to a day, planned again", arguments: [
        1e11, 1e16, 9.2e18, 1e300, Double.infinity, Double.greatestFiniteMagnitude,
    ])
    func farFuture(expiresAt: Double) {
        let plan = TokenExpiryPlan(expiresAt: expiresAt, now: 1_800_000_000, warningSeconds: 30)
        #expect(plan.warning == .later)
        #expect(plan.expireIn == TokenExpiryPlan.longestDelay)
        #expect(!plan.isFinal)
        #expect(TokenExpiryPlan.millisecondsLeft(expiresAt: expiresAt, now: 0) > 0)
    }

    @Test("NaN plans an immediate, final expiry")
    func notANumber() {
        let plan = TokenExpiryPlan(expiresAt: .nan, now: 0, warningSeconds: 30)
        #expect(plan.expireIn == .zero)
        #expect(plan.isFinal)
    }
}
