/// How long to wait before each reconnect attempt: exponential, capped, with jitter so that a
/// crowd of clients dropped at once (a gateway restart) does not come back in one burst.
public struct ReconnectPolicy: Sendable, Hashable {
    /// The first delay.
    public var initialDelay: Duration
    /// No delay is longer than this.
    public var maximumDelay: Duration
    /// Each failed attempt multiplies the delay by this.
    public var multiplier: Double
    /// 0…1: each delay is shortened by up to this fraction, at random.
    public var jitter: Double

    public init(initialDelay: Duration = .milliseconds(500), maximumDelay: Duration = .seconds(10), multiplier: Double = 2, jitter: Double = 0.5) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.multiplier = max(1, multiplier)
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The delay before attempt `attempt` (0 = the first reconnect), `random` in 0..<1.
    public func delay(attempt: Int, random: Double) -> Duration {
        let initial = Double(initialDelay.components.seconds) + Double(initialDelay.components.attoseconds) / 1e18
        let maximum = Double(maximumDelay.components.seconds) + Double(maximumDelay.components.attoseconds) / 1e18
        var seconds = initial
        for _ in 0..<min(attempt, 64) where seconds < maximum { seconds *= multiplier }
        seconds = min(seconds, maximum)
        seconds *= 1 - jitter * min(max(random, 0), 0.999_999)
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    public func delay(attempt: Int) -> Duration {
        delay(attempt: attempt, random: Double.random(in: 0..<1))
    }
}
