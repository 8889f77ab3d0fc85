import NIOConcurrencyHelpers

/// Refused namespace CONNECTs per client address (docs/security.md): each refusal takes a token
/// from the address's bucket of `perMinute`; while it is empty, CONNECTs from that address are
/// refused at once, before their token's signature is checked, so a flood of bad tokens costs
/// the gateway no verification work. Accepted CONNECTs cost nothing here.
///
/// Bounded: entries refill and are swept; past `maxTrackedAddresses` new addresses are not
/// tracked (the per-connection cap still closes each of their connections).
public final class ConnectAttemptLimiter: Sendable {
    public let perMinute: Int
    private let maxTrackedAddresses: Int
    private let state = NIOLockedValueBox<(buckets: [String: RefillBucket], lastSweep: Double)>(([:], 0))

    public init(perMinute: Int, maxTrackedAddresses: Int = 100_000) {
        self.perMinute = perMinute
        self.maxTrackedAddresses = maxTrackedAddresses
    }

    /// Nil when `address` may try a CONNECT now; else the milliseconds until it may.
    public func retryAfterMs(_ address: String?, now: Double) -> Int? {
        guard perMinute > 0 else { return nil }
        return state.withLockedValue { state in
            guard var bucket = state.buckets[AddressKey.of(address)] else { return nil }
            if bucket.refill(rate: perMinute, per: 60, now: now) { return nil }
            return max(1, Int((bucket.secondsUntilToken(rate: perMinute, per: 60) * 1000).rounded(.up)))
        }
    }

    /// A CONNECT from `address` was refused.
    public func recordRefusal(_ address: String?, now: Double) {
        guard perMinute > 0 else { return }
        let address = AddressKey.of(address)
        state.withLockedValue { state in
            if now - state.lastSweep >= 60 {
                state.lastSweep = now
                state.buckets = state.buckets.filter { !$0.value.isFull(rate: perMinute, per: 60, now: now) }
            }
            if state.buckets[address] == nil {
                guard state.buckets.count < maxTrackedAddresses else { return }
                state.buckets[address] = RefillBucket(tokens: Double(perMinute), updatedAt: now)
            }
            _ = state.buckets[address]!.take(rate: perMinute, per: 60, now: now)
        }
    }

    public var trackedAddresses: Int { state.withLockedValue { $0.buckets.count } }
}
