import GatewayJSON
import GatewayCore
import MarketFeed
import NIOCore

/// Order books on the feed loop: every depth message applied to its symbol's book, sent raw to
/// `raw` subscribers and merged per cadence for the others.
extension MarketState {
    func publishDepth(_ depth: FeedMessage.Depth) {
        var book = books[depth.symbol] ?? OrderBook(symbol: depth.symbol)
        let outcome: OrderBook.Outcome
        do {
            outcome = try book.apply(depth)
        } catch {
            services.metrics.feedRejected(source: "book", reason: error.reason.rawValue).increment(by: 1)
            BadInputLog.shared.log(services.logger, "Depth message skipped", metadata: ["feed.symbol": "\(depth.symbol)", "error.type": "\(error.reason.rawValue)"])
            return
        }
        books[depth.symbol] = book
        lastDepthTs[depth.symbol] = depth.ts
        for cadence in conflators.keys {
            conflators[cadence]![depth.symbol, default: DepthConflator()].record(outcome, depth)
        }
        let payload: String
        switch outcome {
        case .snapshot:
            // Also the resync after a gap: every subscriber gets the fresh book.
            payload = Self.snapshotJSON(book, ts: depth.ts)
        case .delta(let prevSeq):
            payload = JSONSerializer.serialize(.object([
                "symbol": .string(depth.symbol), "type": "delta", "seq": .number(String(depth.seq)), "prevSeq": .number(String(prevSeq)),
                "bids": .array(depth.bids.map(\.json)), "asks": .array(depth.asks.map(\.json)),
                "checksum": .number(String(book.checksum)), "ts": depth.ts,
            ]))
        case .gap:
            // Stale until the next snapshot: nobody gets a delta that does not chain.
            services.metrics.feedGaps(symbol: depth.symbol).increment(by: 1)
            services.logger.info("Depth sequence gap; waiting for a snapshot", metadata: ["feed.symbol": "\(depth.symbol)"])
            return
        }
        emitDepth(payload, room: .depth(depth.symbol, cadence: .raw))
    }

    /// Sends each symbol's merged delta (or snapshot) for one cadence; `symbols` nil: all.
    func flushDepth(_ cadence: DepthCadence, symbols: [String]?) {
        guard var perSymbol = conflators[cadence] else { return }
        for symbol in symbols ?? Array(perSymbol.keys) {
            guard var conflator = perSymbol[symbol], let book = books[symbol] else { continue }
            let emission = conflator.flush(book)
            perSymbol[symbol] = conflator
            guard let emission else { continue }
            let ts = lastDepthTs[symbol] ?? .number(String(WallClock.milliseconds()))
            let payload: String
            switch emission {
            case .snapshot:
                payload = Self.snapshotJSON(book, ts: ts)
            case .delta(let prevSeq, let seq, let bids, let asks):
                payload = JSONSerializer.serialize(.object([
                    "symbol": .string(symbol), "type": "delta", "seq": .number(String(seq)), "prevSeq": .number(String(prevSeq)),
                    "bids": .array(bids.map(\.json)), "asks": .array(asks.map(\.json)),
                    "checksum": .number(String(book.checksum)), "ts": ts,
                ]))
            }
            emitDepth(payload, room: .depth(symbol, cadence: cadence))
        }
        conflators[cadence] = perSymbol
    }

    /// Depth messages chain: a socket that falls behind is resynced with a snapshot.
    func emitDepth(_ payload: String, room: Room) {
        services.publisher.emit(
            to: room, event: "market.depth", payloadJSON: payload,
            conflation: ConflationKey(namespace: room.namespace, stream: room.name, policy: .resyncBySnapshot)
        )
    }

    static func snapshotJSON(_ book: OrderBook, ts: JSONValue) -> String {
        JSONSerializer.serialize(.object([
            "symbol": .string(book.symbol), "type": "snapshot", "seq": .number(String(book.seq ?? 0)), "prevSeq": .null,
            "bids": .array(book.bidLevels().map(\.json)), "asks": .array(book.askLevels().map(\.json)),
            "checksum": .number(String(book.checksum)), "ts": ts,
        ]))
    }
}
