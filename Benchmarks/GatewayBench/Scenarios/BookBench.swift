import Foundation
import GatewayJSON
import MarketFeed
import Namespaces

/// `book`: the gateway's order-book path on one core, in process (no server). Simulator depth
/// messages (made beforehand, not timed) go through the gateway's own `DepthBooks` (book,
/// top-10 CRC32, merged cadences, the outgoing payload), alone and together with validating
/// them from JSON text, which is what one producer message costs the feed thread. Baseline in
/// the same run: validating alone, the work every feed message costs before any book exists.
enum BookBench {
    static func run() -> BookReport {
        var simulator = MarketSimulator(symbols: ["BTC/USDT"], seed: 1)
        var messages: [FeedMessage.Depth] = []
        var texts: [String] = []
        for message in simulator.snapshots(now: 0) + (0..<200_000).flatMap({ simulator.step(now: Double($0)) }) {
            guard case .depth(let depth) = message else { continue }
            messages.append(depth)
            texts.append(JSONSerializer.serialize(json(depth)))
        }
        let parser = FeedParser(symbols: ["BTC/USDT"])
        let cadences = DepthCadence.allCases.filter { $0.interval != nil }
        let parse = measure(rounds: 3) {
            var accepted = 0
            for text in texts where (try? parser.parse(text: text)) != nil { accepted += 1 }
            return accepted
        }
        let book = measure(rounds: 3) {
            var books = DepthBooks(cadences: cadences)
            var bytes = 0
            for depth in messages {
                guard case .publish(let payload, _) = books.apply(depth) else { continue }
                bytes += payload.utf8.count
            }
            return bytes
        }
        // The same, with depth-N views kept up to date at the raw cadence (docs/market-data.md).
        func withViews(_ choices: [DepthLevels]) -> Double {
            measure(rounds: 3) {
                var books = DepthBooks(cadences: cadences)
                var bytes = 0
                var viewsMade = false
                for depth in messages {
                    guard case .publish(let payload, _) = books.apply(depth) else { continue }
                    bytes += payload.utf8.count
                    if !viewsMade {
                        for levels in choices { _ = books.viewSnapshot(.init(symbol: depth.symbol, cadence: .raw, levels: levels), ts: .null) }
                        viewsMade = true
                    }
                    for update in books.updateViews(symbol: depth.symbol, cadence: .raw, touched: depth.kind == .delta ? depth : nil) {
                        bytes += update.emitted.payload.utf8.count
                    }
                }
                return bytes
            }
        }
        let depth10 = withViews([.ten])
        let threeViews = withViews([.ten, .fifty, .twoHundred])
        let both = measure(rounds: 3) {
            var books = DepthBooks(cadences: cadences)
            var bytes = 0
            for text in texts {
                guard case .depth(let depth)? = try? parser.parse(text: text), case .publish(let payload, _) = books.apply(depth) else { continue }
                bytes += payload.utf8.count
            }
            return bytes
        }
        return BookReport(
            messages: messages.count, parseSeconds: parse, bookSeconds: book, parseAndBookSeconds: both,
            bookWithDepth10Seconds: depth10, bookWithThreeViewsSeconds: threeViews
        )
    }

    /// The best of `rounds` timings, in seconds.
    static func measure(rounds: Int, _ body: () -> Int) -> Double {
        var best = Double.infinity
        var sink = 0
        for _ in 0..<rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            sink &+= body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        if sink == 42 { print("") }  // keeps the work from being optimised away
        return best
    }

    static func json(_ depth: FeedMessage.Depth) -> JSONValue {
        .object([
            "type": "depth", "symbol": .string(depth.symbol), "kind": .string(depth.kind.rawValue), "seq": .number(String(depth.seq)),
            "bids": .array(depth.bids.map(\.json)), "asks": .array(depth.asks.map(\.json)), "ts": depth.ts,
        ])
    }
}
