import NIOCore

/// When a connected token's `auth.expiring` warning and its expiry fire, as timer delays that
/// cannot overflow: a delay past ``longestDelay`` is cut to it, and the timer that fires early
/// plans again (`isFinal` false) instead of acting. A token valid for centuries therefore costs
/// one timer a day, and no `exp` can trap a conversion to nanoseconds.
struct TokenExpiryPlan: Equatable {
    enum Warning: Equatable {
        /// Due (or overdue): sent at once.
        case now
        case after(TimeAmount)
        /// Past ``longestDelay``: a later plan schedules it.
        case later
    }

    let warning: Warning
    let expireIn: TimeAmount
    /// False: `expireIn` was cut to ``longestDelay``; when it fires, plan again.
    let isFinal: Bool

    static let longestDelay: TimeAmount = .hours(24)

    init(expiresAt: Double, now: Double, warningSeconds: Double) {
        let remaining = expiresAt - now
        let warnAfter = remaining - warningSeconds
        if !(warnAfter > 0) {
            warning = .now
        } else if Self.withinLongestDelay(warnAfter) {
            warning = .after(Self.delay(seconds: warnAfter))
        } else {
            warning = .later
        }
        expireIn = Self.delay(seconds: remaining)
        isFinal = !(remaining > 0) || Self.withinLongestDelay(remaining)
    }

    private static func withinLongestDelay(_ seconds: Double) -> Bool {
        seconds.isFinite && seconds * 1_000 <= Double(longestDelay.nanoseconds / 1_000_000)
    }

    /// Seconds as a timer delay in 0...longestDelay (NaN and negatives: 0).
    static func delay(seconds: Double) -> TimeAmount {
        let longest = Double(longestDelay.nanoseconds / 1_000_000)
        guard seconds > 0 else { return .zero }
        let milliseconds = min(seconds * 1_000, longest)
        return .milliseconds(Int64(milliseconds))
    }

    /// Milliseconds left until `expiresAt` for `auth.expiring`, never negative, never trapping.
    static func millisecondsLeft(expiresAt: Double, now: Double) -> Int {
        let left = (expiresAt - now) * 1_000
        guard left > 0 else { return 0 }
        return left < Double(Int.max / 2) ? Int(left) : Int.max / 2
    }
}
