import Dispatch
import NIOConcurrencyHelpers

/// The symbols the gateway serves (`feed.symbols`): a configured list, or (`"*"`) whatever the
/// feed publishes, learned from its first message, up to `maximum` symbols. Clients may only
/// subscribe to known symbols either way (UNKNOWN_SYMBOL otherwise), so a learned symbol is
/// one the feed has actually sent.
public final class SymbolCatalog: Sendable {
    private let fixed: Set<String>?
    public let maximum: Int
    private let learned = NIOLockedValueBox<(set: Set<String>, list: [String], lastSeen: [String: UInt64], pinned: Set<String>)>(([], [], [:], []))

    /// A configured list: exactly these symbols, in this order.
    public init(symbols: [String]) {
        fixed = Set(symbols)
        maximum = symbols.count
        learned.withLockedValue { $0 = (Set(symbols), symbols, [:], Set(symbols)) }
    }

    /// Learned from the feed, at most `maximum` symbols.
    public init(learningUpTo maximum: Int) {
        fixed = nil
        self.maximum = maximum
    }

    public var isLearning: Bool { fixed == nil }

    /// Whether clients may subscribe to `symbol`.
    public func isKnown(_ symbol: String) -> Bool {
        learned.withLockedValue { $0.set.contains(symbol) }
    }

    /// Every known symbol, configured order or order of first appearance.
    public var known: [String] { learned.withLockedValue { $0.list } }

    /// Whether `admit` would take `symbol`, without learning it (a batch is checked whole
    /// before any of it is accepted).
    public func check(_ symbol: String) throws(FeedError) {
        if fixed != nil { return try admit(symbol) }
        guard Self.isWellFormed(symbol) else {
            throw FeedError(.invalidField, "'symbol' must look like BASE/QUOTE (letters and digits, 1 to 20 each)")
        }
        let room = learned.withLockedValue { $0.set.contains(symbol) || $0.set.count < maximum }
        guard room else {
            throw FeedError(.unknownSymbol, "symbol '\(symbol)' is new and the gateway already serves its maximum of \(maximum) symbols (feed.maxSymbols)")
        }
    }

    /// A symbol a feed message names: known, or learned now when learning allows it.
    public func admit(_ symbol: String) throws(FeedError) {
        if let fixed {
            guard fixed.contains(symbol) else { throw FeedError(.unknownSymbol, "symbol '\(symbol)' is not configured") }
            return
        }
        guard Self.isWellFormed(symbol) else {
            throw FeedError(.invalidField, "'symbol' must look like BASE/QUOTE (letters and digits, 1 to 20 each)")
        }
        let now = Self.clock()
        let admitted = learned.withLockedValue { learned -> Bool in
            if learned.set.contains(symbol) {
                learned.lastSeen[symbol] = now
                return true
            }
            guard learned.set.count < maximum else { return false }
            learned.set.insert(symbol)
            learned.list.append(symbol)
            learned.lastSeen[symbol] = now
            return true
        }
        guard admitted else {
            throw FeedError(.unknownSymbol, "symbol '\(symbol)' is new and the gateway already serves its maximum of \(maximum) symbols (feed.maxSymbols)")
        }
    }

    /// The feed is about to publish `symbols`: those already known are not idle (called before
    /// the messages are queued, so an idle sweep on the feed loop sees it).
    public func touch(_ symbols: some Sequence<String>) {
        guard fixed == nil else { return }
        let now = Self.clock()
        learned.withLockedValue { learned in
            for symbol in symbols where learned.set.contains(symbol) { learned.lastSeen[symbol] = now }
        }
    }

    /// Symbols a driver of the gateway's own publishes (the simulator's, a replay file's): their
    /// messages reach the market without passing here, so they are never counted idle.
    public func pin(_ symbols: some Sequence<String>) {
        learned.withLockedValue { $0.pinned.formUnion(symbols) }
    }

    /// Learned symbols the feed has not named for `seconds` (none for a configured list).
    public func idle(for seconds: Double) -> [String] {
        guard let cutoff = Self.cutoff(seconds) else { return [] }
        return learned.withLockedValue { learned in
            learned.list.filter { !learned.pinned.contains($0) && learned.lastSeen[$0, default: 0] < cutoff }
        }
    }

    /// Forgets those of `symbols` that are still idle for `seconds` (one the feed named meanwhile
    /// stays); they are learned again from their next message. Returns the ones forgotten.
    /// A configured symbol is never forgotten.
    public func forget(_ symbols: [String], ifIdleFor seconds: Double) -> [String] {
        guard fixed == nil, let cutoff = Self.cutoff(seconds) else { return [] }
        return learned.withLockedValue { learned in
            let gone = Set(symbols.filter { learned.set.contains($0) && !learned.pinned.contains($0) && learned.lastSeen[$0, default: 0] < cutoff })
            guard !gone.isEmpty else { return [] }
            learned.set.subtract(gone)
            learned.list.removeAll { gone.contains($0) }
            for symbol in gone { learned.lastSeen[symbol] = nil }
            return Array(gone)
        }
    }

    /// The monotonic time `seconds` ago; nil while the clock has not run that long (no symbol can
    /// have been idle that long yet).
    private static func cutoff(_ seconds: Double) -> UInt64? {
        let span = UInt64(max(0, min(seconds, 1e9)) * 1e9)
        let now = clock()
        return now > span ? now - span : nil
    }

    /// Monotonic nanoseconds.
    static func clock() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// `BASE/QUOTE`: ASCII letters and digits, 1 to 20 on each side.
    public static func isWellFormed(_ symbol: String) -> Bool {
        let parts = symbol.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        return parts.allSatisfy { part in
            (1...20).contains(part.count) && part.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) }
        }
    }
}
