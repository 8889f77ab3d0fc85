import NIOConcurrencyHelpers

/// Who may open an Engine.IO session, decided at the handshake before any per-session state is
/// kept (docs/security.md): sessions per instance and per client address, and handshakes per
/// second per instance and per address. Over an instance bound the answer is 503 with
/// `Retry-After` (what load balancers expect from a busy backend); over an address's bound, 429.
///
/// Everything it holds is bounded: one counter per address with a live session, and one rate
/// entry per address seen within the last second or so, at most `maxTrackedAddresses` (past
/// that, handshakes from new addresses are refused as if the instance were busy).
public final class EngineAdmission: Sendable {
    public struct Limits: Sendable, Equatable {
        /// Engine.IO sessions open at once on this instance.
        public var maxSessions: Int
        /// …from one client address.
        public var maxSessionsPerAddress: Int
        /// New sessions per second on this instance (also the burst); 0: no limit.
        public var handshakesPerSecond: Int
        /// …from one client address; 0: no limit.
        public var handshakesPerSecondPerAddress: Int
        /// Addresses whose handshake rate is tracked at once.
        public var maxTrackedAddresses: Int

        public init(
            maxSessions: Int = 100_000, maxSessionsPerAddress: Int = 1_000, handshakesPerSecond: Int = 5_000,
            handshakesPerSecondPerAddress: Int = 100, maxTrackedAddresses: Int = 100_000
        ) {
            self.maxSessions = maxSessions
            self.maxSessionsPerAddress = maxSessionsPerAddress
            self.handshakesPerSecond = handshakesPerSecond
            self.handshakesPerSecondPerAddress = handshakesPerSecondPerAddress
            self.maxTrackedAddresses = maxTrackedAddresses
        }
    }

    /// Why a handshake was refused (also the metric's bound).
    public enum Refusal: Sendable, Equatable {
        case sessions, sessionsPerAddress, handshakeRate, handshakeRatePerAddress, addressTable

        public var isPerAddress: Bool { self == .sessionsPerAddress || self == .handshakeRatePerAddress }
    }

    private struct State {
        var sessions = 0
        var sessionsByAddress: [String: Int] = [:]
        var instance: RefillBucket
        var rates: [String: RefillBucket] = [:]
        var lastSweep = 0.0
    }

    public let limits: Limits
    private let state: NIOLockedValueBox<State>

    public init(limits: Limits = Limits()) {
        self.limits = limits
        state = NIOLockedValueBox(State(instance: RefillBucket(tokens: Double(limits.handshakesPerSecond), updatedAt: 0)))
    }

    /// Checks a handshake from `address` against every bound and takes its rate tokens; with
    /// `acquire`, also takes a session slot (give it back with ``release(_:)``).
    public func admit(_ address: String?, now: Double, acquire: Bool) -> (refusal: Refusal, retryAfterSeconds: Int)? {
        let address = AddressKey.of(address)
        return state.withLockedValue { state in
            if state.sessions >= limits.maxSessions { return (.sessions, 1) }
            if state.sessionsByAddress[address, default: 0] >= limits.maxSessionsPerAddress { return (.sessionsPerAddress, 1) }
            sweep(&state, now: now)
            if limits.handshakesPerSecondPerAddress > 0 {
                if state.rates[address] == nil {
                    guard state.rates.count < limits.maxTrackedAddresses else { return (.addressTable, 1) }
                    state.rates[address] = RefillBucket(tokens: Double(limits.handshakesPerSecondPerAddress), updatedAt: now)
                }
                if let wait = state.rates[address]!.take(rate: limits.handshakesPerSecondPerAddress, now: now) {
                    return (.handshakeRatePerAddress, Self.seconds(wait))
                }
            }
            if limits.handshakesPerSecond > 0, let wait = state.instance.take(rate: limits.handshakesPerSecond, now: now) {
                return (.handshakeRate, Self.seconds(wait))
            }
            if acquire { Self.take(&state, address) }
            return nil
        }
    }

    /// Takes a session slot without the rate check (a WebSocket admitted at its upgrade
    /// request); the bound reached meanwhile, or nil when the slot was taken.
    public func acquire(_ address: String?) -> Refusal? {
        let address = AddressKey.of(address)
        return state.withLockedValue { state in
            if state.sessions >= limits.maxSessions { return .sessions }
            if state.sessionsByAddress[address, default: 0] >= limits.maxSessionsPerAddress { return .sessionsPerAddress }
            Self.take(&state, address)
            return nil
        }
    }

    public func release(_ address: String?) {
        let address = AddressKey.of(address)
        state.withLockedValue { state in
            state.sessions = max(0, state.sessions - 1)
            let left = state.sessionsByAddress[address, default: 0] - 1
            state.sessionsByAddress[address] = left > 0 ? left : nil
        }
    }

    public var sessionCount: Int { state.withLockedValue { $0.sessions } }
    public var trackedAddresses: Int { state.withLockedValue { $0.rates.count } }

    private static func take(_ state: inout State, _ address: String) {
        state.sessions += 1
        state.sessionsByAddress[address, default: 0] += 1
    }

    /// Forgets addresses whose bucket has refilled (they would start full anyway).
    private func sweep(_ state: inout State, now: Double) {
        guard now - state.lastSweep >= 1 else { return }
        state.lastSweep = now
        let rate = limits.handshakesPerSecondPerAddress
        state.rates = state.rates.filter { !$0.value.isFull(rate: rate, now: now) }
    }

    private static func seconds(_ wait: Double) -> Int { max(1, Int(wait.rounded(.up))) }
}
