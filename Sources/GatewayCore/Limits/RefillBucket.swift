/// A refill-only bucket: `rate` tokens per `per` seconds, at most `rate` held, no block period
/// (``TokenBucket`` is the client-event bucket with SPEC §4's block). Time is passed in.
struct RefillBucket: Sendable {
    var tokens: Double
    var updatedAt: Double

    init(tokens: Double, updatedAt: Double) {
        self.tokens = tokens
        self.updatedAt = updatedAt
    }

    /// Refills up to now; true when at least one token is there.
    mutating func refill(rate: Int, per seconds: Double = 1, now: Double) -> Bool {
        tokens = min(Double(rate), tokens + max(0, now - updatedAt) * Double(rate) / seconds)
        updatedAt = now
        return tokens >= 1
    }

    /// Nil when a token was taken; else the seconds until one is there.
    mutating func take(rate: Int, per seconds: Double = 1, now: Double) -> Double? {
        guard refill(rate: rate, per: seconds, now: now) else { return secondsUntilToken(rate: rate, per: seconds) }
        tokens -= 1
        return nil
    }

    func secondsUntilToken(rate: Int, per seconds: Double = 1) -> Double {
        max(0, 1 - tokens) * seconds / Double(rate)
    }

    func isFull(rate: Int, per seconds: Double = 1, now: Double) -> Bool {
        tokens + max(0, now - updatedAt) * Double(rate) / seconds >= Double(rate)
    }
}
