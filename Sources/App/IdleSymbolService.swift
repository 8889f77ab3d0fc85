import Logging
import MarketFeed
import Namespaces
import ServiceLifecycle

/// With learned symbols (`feed.symbols: "*"`), forgets a symbol the feed has not named for
/// `feed.learnedSymbolIdleSeconds` and that nobody on this instance subscribes to (the
/// simulator's and a replay file's symbols are pinned, never forgotten): its book,
/// latest values and throttles go, and its place under `feed.maxSymbols` is free again. It is
/// learned anew from its next message. Checked every quarter of the idle time (at most a minute).
struct IdleSymbolService: Service {
    let symbols: SymbolCatalog
    let interest: SymbolInterest
    let market: MarketState
    let idleSeconds: Double
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown { await sweep() }
    }

    private func sweep() async {
        let every = Duration.milliseconds(Int64(min(60, max(0.05, idleSeconds / 4)) * 1000))
        while !Task.isCancelled {
            do { try await Task.sleep(for: every) } catch { return }
            var forgotten: [String] = []
            for symbol in symbols.idle(for: idleSeconds) where !interest.isWanted(symbol) {
                // Checked again on the feed loop, behind every message queued before: a symbol
                // the feed named meanwhile stays, book and all.
                let idleSeconds = idleSeconds
                let symbols = symbols
                let gone = (try? await market.forget(symbol) { !symbols.forget([symbol], ifIdleFor: idleSeconds).isEmpty }.get()) ?? false
                if gone { forgotten.append(symbol) }
            }
            if !forgotten.isEmpty {
                logger.info("Idle learned symbols forgotten", metadata: ["symbols.count": "\(forgotten.count)", "symbols.known": "\(symbols.known.count)"])
            }
        }
    }
}
