import NIOConcurrencyHelpers

/// Messages in and out per second over the last stats interval, kept by the stats service.
public final class TrafficRates: Sendable {
    public struct Rates: Sendable {
        public var inPerSecond: Double
        public var outPerSecond: Double

        public init(inPerSecond: Double = 0, outPerSecond: Double = 0) {
            self.inPerSecond = inPerSecond
            self.outPerSecond = outPerSecond
        }
    }

    private let state = NIOLockedValueBox(Rates())

    public init() {}

    public var current: Rates { state.withLockedValue { $0 } }

    public func update(_ rates: Rates) {
        state.withLockedValue { $0 = rates }
    }
}
