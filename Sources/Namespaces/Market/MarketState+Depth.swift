import GatewayCore
import GatewayJSON
import MarketFeed

/// Depth on the feed loop: every message applied to its book (``DepthBooks``), sent raw to
/// `raw` subscribers and merged per cadence for the others.
extension MarketState {
    func publishDepth(_ depth: FeedMessage.Depth) {
        let update = books.apply(depth)
        let dropped = books.takeDroppedLevels()
        if dropped > 0 {
            metrics.countRefusal(.bookLevels, by: dropped)
            BadInputLog.shared.log(logger, "Book levels past feed.maxBookLevels dropped", metadata: [
                "feed.symbol": "\(depth.symbol)", "limit.levels": "\(books.maxLevels)",
            ])
        }
        switch update {
        case .publish(let payload):
            emitDepth(payload, room: .depth(symbol: depth.symbol, cadence: .raw))
        case .gap:
            // Stale until the next snapshot: nobody gets a delta that does not chain.
            metrics.feedGaps(symbol: depth.symbol).increment(by: 1)
            logger.info("Depth sequence gap; waiting for a snapshot", metadata: ["feed.symbol": "\(depth.symbol)"])
        case .rejected(let error):
            metrics.feedRejected(source: "book", reason: error.reason.rawValue).increment(by: 1)
            BadInputLog.shared.log(logger, "Depth message skipped", metadata: ["feed.symbol": "\(depth.symbol)", "error.type": "\(error.reason.rawValue)"])
        }
    }

    /// Sends each symbol's merged delta (or snapshot) for one cadence; `symbols` nil: all.
    func flushDepth(_ cadence: DepthCadence, symbols: [String]?) {
        for (symbol, payload) in books.flush(cadence, symbols: symbols, now: .number(String(WallClock.milliseconds()))) {
            emitDepth(payload, room: .depth(symbol: symbol, cadence: cadence))
        }
    }

    /// Depth messages chain: a socket that falls behind is resynced with a snapshot.
    func emitDepth(_ payload: String, room: Room) {
        emit(to: room, event: "market.depth", payloadJSON: payload, conflation: .resyncBySnapshot)
    }
}
