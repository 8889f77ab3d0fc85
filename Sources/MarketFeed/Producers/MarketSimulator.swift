import GatewayJSON

/// The default feed: a random walk per symbol producing ticks, trades, a 50-level book with
/// deltas, tickers and stats. Pure and deterministic for a given seed: each `step(now:)`
/// returns the messages of one tick as the feed's own types (no JSON built and parsed again);
/// the tests check that each one is what ``FeedParser`` makes of its wire form.
public struct MarketSimulator: Sendable {
    struct SymbolState: Sendable {
        let symbol: String
        var mid: Double
        let tick: Double
        let decimals: Int
        var seq: UInt64 = 0
        var open: Double
        var high: Double
        var low: Double
        var volume: Double = 0
        var quoteVolume: Double = 0
        var tradeId: Int = 0
        var bids: [Double: Double] = [:]
        var asks: [Double: Double] = [:]
    }

    public static let levels = 50
    private var generator: SeededGenerator
    private var states: [SymbolState]
    private var next = 0

    public init(symbols: [String], seed: UInt64) {
        generator = SeededGenerator(seed: seed)
        states = symbols.map { symbol in
            let mid = Self.startingPrice(symbol)
            let decimals = mid >= 1000 ? 2 : mid >= 10 ? 3 : 5
            let tick = 1 / Self.pow10(decimals)
            return SymbolState(symbol: symbol, mid: mid, tick: tick, decimals: decimals, open: mid, high: mid, low: mid)
        }
    }

    static func startingPrice(_ symbol: String) -> Double {
        switch symbol.split(separator: "/").first {
        case "BTC": 64_000
        case "ETH": 3_000
        case "SOL": 150
        case "XRP": 0.5
        case "DOGE": 0.15
        default: 100
        }
    }

    private static func pow10(_ exponent: Int) -> Double { (0..<exponent).reduce(1.0) { value, _ in value * 10 } }

    /// The opening book snapshots, one per symbol.
    public mutating func snapshots(now: Double) -> [FeedMessage] {
        (0..<states.count).map { index in
            var state = states[index]
            state.bids = [:]
            state.asks = [:]
            for level in 1...Self.levels {
                state.bids[round(state.mid - Double(level) * state.tick * 5, state)] = quantity()
                state.asks[round(state.mid + Double(level) * state.tick * 5, state)] = quantity()
            }
            state.seq += 1
            states[index] = state
            return depth(state, kind: .snapshot, bids: state.bids, asks: state.asks, now: now)
        }
    }

    /// One simulated tick for the next symbol (round robin): a price move, sometimes a trade, a
    /// book delta; every 20th step a ticker and stats.
    public mutating func step(now: Double) -> [FeedMessage] {
        let index = next
        next = (next + 1) % states.count
        var state = states[index]
        var messages: [FeedMessage] = []
        let drift = (Double(generator.next() % 2001) - 1000) / 1000 * state.tick * 10
        state.mid = max(state.tick * 100, state.mid + drift)
        state.high = max(state.high, state.mid)
        state.low = min(state.low, state.mid)
        let bid = round(state.mid - state.tick * 2, state)
        let ask = round(state.mid + state.tick * 2, state)
        if generator.next() % 3 == 0 {
            state.tradeId += 1
            let qty = quantity()
            state.volume += qty
            state.quoteVolume += qty * state.mid
            let side = generator.next() % 2 == 0 ? "buy" : "sell"
            messages.append(.trade(.init(
                symbol: state.symbol, tradeId: .int(state.tradeId), price: decimal(text(state.mid, state)), qty: decimal(text4(qty)),
                side: side, ts: .double(now)
            )))
        }
        messages.append(.tick(.init(
            symbol: state.symbol, price: decimal(text(state.mid, state)), bid: decimal(text(bid, state)), ask: decimal(text(ask, state)),
            volume: decimal(text4(state.volume)), ts: .double(now)
        )))
        // Book delta: move a few levels near the top (some removed, some added or resized).
        var bidChanges: [Double: Double] = [:]
        var askChanges: [Double: Double] = [:]
        for _ in 0..<(1 + Int(generator.next() % 3)) {
            let offset = Double(1 + generator.next() % 10) * state.tick * 5
            let remove = generator.next() % 4 == 0
            if generator.next() % 2 == 0 {
                let price = round(state.mid - offset, state)
                bidChanges[price] = remove ? 0 : quantity()
            } else {
                let price = round(state.mid + offset, state)
                askChanges[price] = remove ? 0 : quantity()
            }
        }
        for (price, qty) in bidChanges { state.bids[price] = qty == 0 ? nil : qty }
        for (price, qty) in askChanges { state.asks[price] = qty == 0 ? nil : qty }
        // Keep the book a book: nothing on the wrong side of the moved mid, at most `levels` a
        // side (the farthest go). Removals travel in the same delta as quantity 0.
        for price in state.bids.keys where price >= state.mid {
            state.bids[price] = nil
            bidChanges[price] = 0
        }
        for price in state.asks.keys where price <= state.mid {
            state.asks[price] = nil
            askChanges[price] = 0
        }
        for price in state.bids.keys.sorted(by: >).dropFirst(Self.levels) {
            state.bids[price] = nil
            bidChanges[price] = 0
        }
        for price in state.asks.keys.sorted().dropFirst(Self.levels) {
            state.asks[price] = nil
            askChanges[price] = 0
        }
        state.seq += 1
        messages.append(depth(state, kind: .delta, bids: bidChanges, asks: askChanges, now: now))
        if state.seq % 20 == 0 {
            let change = state.mid - state.open
            messages.append(.ticker(symbol: state.symbol, payload: .object([
                "symbol": .string(state.symbol), "last": .string(text(state.mid, state)), "bid": .string(text(bid, state)),
                "ask": .string(text(ask, state)), "change24h": .string(text(change, state)), "volume24h": .string(text4(state.volume)),
                "ts": .double(now),
            ])))
            messages.append(.stats(symbol: state.symbol, payload: .object([
                "symbol": .string(state.symbol), "open": .string(text(state.open, state)),
                "high": .string(text(state.high, state)), "low": .string(text(state.low, state)), "last": .string(text(state.mid, state)),
                "volume": .string(text4(state.volume)), "quoteVolume": .string(text4(state.quoteVolume)),
                "change": .string(text(change, state)), "changePercent": .string(text4(change / state.open * 100)), "ts": .double(now),
            ])))
        }
        states[index] = state
        return messages
    }

    private mutating func quantity() -> Double { Double(1 + generator.next() % 5000) / 1000 }

    private func round(_ value: Double, _ state: SymbolState) -> Double {
        (value / state.tick).rounded() * state.tick
    }

    private func text(_ value: Double, _ state: SymbolState) -> String { format(value, decimals: state.decimals) }
    private func text4(_ value: Double) -> String { format(value, decimals: 4) }

    private func format(_ value: Double, decimals: Int) -> String {
        let scale = Self.pow10(decimals)
        let scaled = Int64((abs(value) * scale).rounded())
        let whole = scaled / Int64(scale)
        var fraction = String(scaled % Int64(scale))
        fraction = String(repeating: "0", count: decimals - fraction.count) + fraction
        return (value < 0 && scaled != 0 ? "-" : "") + "\(whole).\(fraction)"
    }

    private func depth(_ state: SymbolState, kind: FeedMessage.Depth.Kind, bids: [Double: Double], asks: [Double: Double], now: Double) -> FeedMessage {
        func levels(_ side: [Double: Double]) -> [BookLevel] {
            side.sorted { $0.key < $1.key }.map { BookLevel(price: decimal(text($0.key, state)), qty: decimal(text4($0.value))) }
        }
        return .depth(.init(symbol: state.symbol, kind: kind, seq: state.seq, bids: levels(bids), asks: levels(asks), ts: .double(now)))
    }

    /// A price or quantity the simulator formatted itself: always a valid decimal string.
    private func decimal(_ text: String) -> DecimalText {
        DecimalText(.string(text))!
    }
}
